package io.moeagent.host.reference;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.moeagent.host.io.Checkpoint;
import io.moeagent.host.io.CheckpointLoader;
import io.moeagent.host.model.ExpertLayout;
import io.moeagent.host.model.ExpertSelection;
import io.moeagent.host.model.KvCache;
import io.moeagent.host.model.Qwen2MoeModel;
import io.moeagent.host.model.StepContext;
import io.moeagent.host.model.StepInput;
import io.moeagent.host.model.StepOutput;
import io.moeagent.host.prompts.Prompts;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference as the agent's tests use it: the real synthetic:tiny checkpoint (BF16 safetensors, real
 * tokenizer), a built-in prompt, and the routes of every MoE layer compared token by token with the engine's.
 */
class SyntheticTinyRoutesTest {
    @Test
    void engineRoutesMatchTheReferenceOnTheTinyCheckpoint() {
        try (Checkpoint checkpoint = CheckpointLoader.load("synthetic:tiny",
                Path.of("target", "test-moe-cache").toAbsolutePath());
             NDManager manager = NDManager.newBaseManager(Device.cpu());
             Qwen2MoeModel model = Qwen2MoeModel.load(checkpoint.config(), checkpoint.weights(), manager,
                     DataType.FLOAT32, ExpertLayout.LOOP)) {
            long[] prompt = checkpoint.tokenizer().encode(
                    checkpoint.tokenizer().formatPrompt(Prompts.builtIn().get(0)));
            int n = prompt.length;
            ReferenceQwen2Moe reference = ReferenceQwen2Moe.fromWeightSource(checkpoint.config(),
                    checkpoint.weights());
            List<ReferenceQwen2Moe.TokenResult> expected = reference.newSession().feed(prompt);

            StepOutput out;
            try (KvCache cache = model.newCache(1, n)) {
                int[] positions = IntStream.range(0, n).toArray();
                StepContext context = new StepContext(0, n, new long[n], positions,
                        java.util.Arrays.stream(prompt).mapToInt(id -> (int) id).toArray(), StepContext.phases(n, true),
                        Map.of());
                out = model.forward(new StepInput(1, n, prompt, positions, 0, new int[1],
                        LongStream.range(0, n).toArray(), context), cache, true);
            }
            int k = checkpoint.config().numExpertsPerTok();
            assertEquals(expected.get(0).routes.size(), out.routes().size());
            int compared = 0;
            for (int m = 0; m < out.routes().size(); m++) {
                ExpertSelection selection = out.routes().get(m);
                for (int t = 0; t < n; t++) {
                    ReferenceQwen2Moe.Route route = expected.get(t).routes.get(m);
                    if (route.marginAtK() < 1e-6) {
                        continue; // near-tie: either choice is right in fp32
                    }
                    assertArrayEquals(route.ids, Arrays.copyOfRange(selection.expertIds, t * k, (t + 1) * k),
                            "layer " + route.layer + " token " + t);
                    compared++;
                }
            }
            assertTrue(compared > 0.95 * n * out.routes().size(), "too many near-ties: " + compared);
            double[] logits = expected.get(n - 1).logits;
            double diff = 0;
            double norm = 0;
            for (int v = 0; v < logits.length; v++) {
                diff += Math.pow(out.logits()[v] - logits[v], 2);
                norm += logits[v] * logits[v];
            }
            assertTrue(Math.sqrt(diff / norm) < 1e-5, "logits error " + Math.sqrt(diff / norm));
        }
    }
}
