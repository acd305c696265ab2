// Java 21+ single-file program, launched by JlamaProfileIT as `java [-javaagent:...] -cp JLAMA_CLASSPATH
// --add-modules jdk.incubator.vector JlamaGenerate.java MODEL_DIR PROBE_FILE NEW_TOKENS PROMPT...`
// (the source launcher compiles it: the agent module's own tests are Java 17 and cannot link Jlama's classes).
//
// Runs Jlama's own greedy generation, unmodified, one request per prompt, and prints each output. A test-only
// probe replaces each TransformerBlock's feed-forward block by a wrapper that writes the MoE block's input rows
// (the router inputs) to PROBE_FILE and then calls the original block: per call, the layer, the rows, the hidden
// size and the floats. It reads, never changes, what Jlama computes.

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.model.TransformerBlock;
import com.github.tjake.jlama.model.functions.FeedForward;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;
import com.github.tjake.jlama.tensor.AbstractTensor;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;

public class JlamaGenerate {
    public static void main(String[] args) throws Exception {
        File model = new File(args[0]);
        int newTokens = Integer.parseInt(args[2]);
        AbstractModel m = ModelSupport.loadModel(model, DType.F32, DType.F32);
        try (DataOutputStream probe = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(args[1])))) {
            installProbe(m, probe);
            for (int i = 3; i < args.length; i++) {
                long promptTokens = m.getTokenizer().encode(args[i]).length;
                var r = m.generate(UUID.randomUUID(), PromptContext.of(args[i]), 0.0f,
                        (int) promptTokens + 1 + newTokens, (text, time) -> { });
                System.out.println("OUTPUT " + (i - 3) + " prompt=" + r.promptTokens + " generated="
                        + r.generatedTokens + " finish=" + r.finishReason + " text=" + escape(r.responseText));
            }
        }
        System.out.println("jlama done");
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(c -> sb.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : "\\u" + Integer.toHexString(c)));
        return sb.toString();
    }

    private static void installProbe(AbstractModel m, DataOutputStream out) throws ReflectiveOperationException {
        Field blocksField = AbstractModel.class.getDeclaredField("transformerBlocks");
        blocksField.setAccessible(true);
        Field ff = TransformerBlock.class.getDeclaredField("ffBlock");
        ff.setAccessible(true);
        Field layerIndex = TransformerBlock.class.getDeclaredField("layerIndex");
        layerIndex.setAccessible(true);
        for (TransformerBlock block : (TransformerBlock[]) blocksField.get(m)) {
            FeedForward original = (FeedForward) ff.get(block);
            int layer = layerIndex.getInt(block);
            ff.set(block, new Probe(original, layer, out));
        }
    }

    /** Writes the MoE block's input rows, then runs the original block. */
    record Probe(FeedForward original, int layer, DataOutputStream out) implements FeedForward {
        @Override
        public AbstractTensor forward(AbstractTensor input, Optional<Consumer<List<AbstractTensor>>> reducer) {
            int rows = input.shape().first();
            int dim = input.shape().last();
            try {
                out.writeInt(layer);
                out.writeInt(rows);
                out.writeInt(dim);
                for (int r = 0; r < rows; r++) {
                    for (int d = 0; d < dim; d++) {
                        out.writeFloat(input.get(r, d));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return original.forward(input, reducer);
        }
    }
}
