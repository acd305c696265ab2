package io.moeagent.host.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeagent.host.device.DeviceRequest;
import io.moeagent.host.device.LibtorchBootstrap;
import io.moeagent.host.io.SyntheticCheckpoints;
import io.moeagent.host.model.ModelConfig;
import io.moeagent.host.tokenizer.ByteLevelBpeTrainer;
import io.moeagent.host.tokenizer.HfTextTokenizer;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Trains a Qwen2-MoE on GSM8K's train split: a byte-level BPE tokenizer learned from the same text, then AdamW
 * steps over packed ChatML conversations with a progress line, resumable checkpoints, a Hugging Face checkpoint
 * at the end, and the held-out loss on the test split against a unigram baseline.
 */
public final class Trainer {
    static final String TOKENIZER_DIRECTORY = "tokenizer";
    static final String MODEL_DIRECTORY = "model";
    static final String REPORT = "report.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where and how often; none of these change the trained weights. */
    public record Run(Path data, Path out, boolean resume, int checkpointEvery, int keepCheckpoints, int logEvery,
                      int evalLimit, int stopAfter, int threads) {
    }

    /** What a finished (or stopped) run measured. */
    public record Result(int stepsDone, double firstLoss, double lastLoss, double heldOutLoss, double unigramLoss,
                         long heldOutTargets, Path model) {
    }

    private final TrainConfig config;
    private final Run run;
    private final PrintWriter log;

    public Trainer(TrainConfig config, Run run, PrintWriter log) {
        config.validate();
        this.config = config;
        this.run = run;
        this.log = log;
    }

    public Result train() throws IOException {
        long started = System.nanoTime();
        Files.createDirectories(run.out());
        List<Gsm8kCorpus.Problem> trainProblems = Gsm8kCorpus.read(run.data().resolve(Gsm8kCorpus.TRAIN_FILE),
                config.trainLimit());
        Path tokenizerDir = run.out().resolve(TOKENIZER_DIRECTORY);
        if (!run.resume() || !Files.isRegularFile(tokenizerDir.resolve(HfTextTokenizer.TOKENIZER_FILE))) {
            long t0 = System.nanoTime();
            writeTokenizer(trainProblems, tokenizerDir);
            say("tokenizer: byte-level BPE learned from %d problems in %.1f s", trainProblems.size(),
                    (System.nanoTime() - t0) / 1e9);
        }
        // the CPU libtorch, loaded the way run and serve load it (the bundled natives are not on the class path)
        LibtorchBootstrap.Selection selection = LibtorchBootstrap.select(DeviceRequest.of("cpu"), line -> say("%s", line));
        if (selection.refusal() != null) {
            throw new IllegalArgumentException(selection.refusal());
        }
        try (HfTextTokenizer tokenizer = HfTextTokenizer.load(tokenizerDir, false);
             NDManager manager = NDManager.newBaseManager(ai.djl.Device.cpu())) {
            if (JniUtils.isGradMode()) {
                JniUtils.setGradMode(false); // gradients only inside the collector; updates run without a graph
            }
            int threadsBefore = JniUtils.getNumThreads();
            if (run.threads() > 0) {
                // libtorch's CPU backward is not bitwise deterministic with more than one intra-op thread
                JniUtils.setNumThreads(run.threads());
            }
            try {
                return train(tokenizer, manager, tokenizerDir, trainProblems, started);
            } finally {
                JniUtils.setNumThreads(threadsBefore);
            }
        }
    }

    private Result train(HfTextTokenizer tokenizer, NDManager manager, Path tokenizerDir,
                         List<Gsm8kCorpus.Problem> trainProblems, long started) throws IOException {
        {
            int vocab = vocabularySize(tokenizerDir);
            ModelConfig mc = config.modelConfig(vocab, specialId(tokenizer, ByteLevelBpeTrainer.END_OF_TEXT),
                    specialId(tokenizer, ByteLevelBpeTrainer.IM_END));
            int prefix = tokenizer.encode(Gsm8kCorpus.systemTurn()).length;
            int[][] trainTokens = encode(tokenizer, trainProblems, prefix);
            TokenWindows trainWindows = new TokenWindows(trainTokens, prefix, config.seqLen(), config.seed(), true);
            long tokensPerStep = (long) config.batch() * config.seqLen();
            say("data: %d problems, %d tokens (%.2f bytes/token), %d windows of %d per epoch; %d steps x %d tokens"
                            + " = %.2f epochs", trainProblems.size(), trainWindows.totalTokens(),
                    bytes(trainProblems) / (double) trainWindows.totalTokens(), trainWindows.windowsPerEpoch(),
                    config.seqLen(), config.steps(), tokensPerStep,
                    config.steps() * (double) config.batch() / trainWindows.windowsPerEpoch());

            TrainableMoe model;
            AdamW optimizer;
            int start = 0;
            ObjectNode history = JSON.createObjectNode();
            ArrayNode losses = history.putArray("loss");
            ArrayNode skipped = history.putArray("skipped_steps");
            Path latest = run.resume() ? TrainState.latest(run.out()) : null;
            if (latest != null) {
                JsonNode saved = TrainState.meta(latest).get("config");
                if (!config.equals(JSON.treeToValue(saved, TrainConfig.class))) {
                    throw new IllegalArgumentException("the checkpoint " + latest + " was made with other"
                            + " settings (" + saved + "); resume with the same options or use a new --out");
                }
            }
            TrainState.Loaded loaded = latest == null ? null
                    : TrainState.load(latest, TrainableMoe.shapes(mc).keySet(), manager);
            if (loaded != null) {
                model = TrainableMoe.of(mc, manager, loaded.params());
                optimizer = new AdamW(model.params(), manager);
                optimizer.restore(loaded.first(), loaded.second());
                start = loaded.nextStep();
                loaded.meta().get("history").get("loss").forEach(losses::add);
                loaded.meta().get("history").path("skipped_steps").forEach(skipped::add);
                say("resumed from step %d", start);
            } else {
                model = TrainableMoe.initialise(mc, manager, config.seed());
                optimizer = new AdamW(model.params(), manager);
            }
            say("threads: %d libtorch intra-op thread(s)", JniUtils.getNumThreads());
            say("model: %s, %,d parameters (%,d BF16 bytes of weights); %d layers, hidden %d, %d experts top-%d,"
                            + " expert %d, shared %d, vocab %d", "qwen2_moe", parameterCount(model),
                    2 * parameterCount(model), mc.numHiddenLayers(), mc.hiddenSize(), mc.numExperts(),
                    mc.numExpertsPerTok(), mc.moeIntermediateSize(), mc.sharedExpertIntermediateSize(), vocab);

            int end = run.stopAfter() > 0 ? Math.min(config.steps(), run.stopAfter()) : config.steps();
            long loopStart = System.nanoTime();
            double windowLoss = 0;
            double windowAux = 0;
            int windowSteps = 0;
            for (int step = start; step < end; step++) {
                TokenWindows.Batch batch = trainWindows.batch((long) step * config.batch(), config.batch());
                double lm;
                double aux;
                try (NDScope scope = new NDScope();
                     GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                    TrainableMoe.Loss loss = model.loss(batch.inputs(), batch.targets(), batch.weights(),
                            batch.rows(), config.seqLen(), config.auxLossCoef());
                    collector.backward(loss.total());
                    lm = loss.lm().getFloat();
                    aux = loss.aux().getFloat();
                }
                if (!Double.isFinite(lm) || !Double.isFinite(aux)) {
                    throw new IllegalStateException("the loss became " + lm + " (aux " + aux + ") at step " + step
                            + "; lower --lr and start again");
                }
                double norm = optimizer.step(model.params(), step, config.learningRateAt(step),
                        config.weightDecay(), config.gradClip());
                if (!Double.isFinite(norm)) {
                    skipped.add(step);
                    say("step %d: non-finite gradient (norm %s); update skipped (%d so far)", step + 1, norm,
                            skipped.size());
                }
                losses.add(lm);
                windowLoss += lm;
                windowAux += aux;
                windowSteps++;
                int done = step + 1;
                if (done % run.logEvery() == 0 || done == end) {
                    double seconds = (System.nanoTime() - loopStart) / 1e9;
                    double perStep = seconds / (done - start);
                    say("step %d/%d  loss %.4f  aux %.3f  lr %.2e  %.0f tokens/s  elapsed %s  ETA %s", done,
                            config.steps(), windowLoss / windowSteps, windowAux / windowSteps,
                            config.learningRateAt(step), tokensPerStep / perStep, clock(seconds),
                            clock(perStep * (config.steps() - done)));
                    windowLoss = 0;
                    windowAux = 0;
                    windowSteps = 0;
                }
                if (run.checkpointEvery() > 0 && (done % run.checkpointEvery() == 0 || done == end)) {
                    TrainState.save(run.out(), done, config, model, optimizer, history, run.keepCheckpoints());
                }
            }
            double trainSeconds = (System.nanoTime() - loopStart) / 1e9;
            double firstLoss = losses.size() > 0 ? losses.get(0).asDouble() : Double.NaN;
            int tail = Math.max(1, Math.min(20, losses.size() / 4)); // the last 20 steps (a quarter of short runs)
            double lastLoss = losses.size() > 0 ? mean(losses, losses.size() - tail, losses.size()) : Double.NaN;
            if (end < config.steps()) {
                say("stopped after step %d of %d (--stop-after); resume with --resume", end, config.steps());
                return new Result(end, firstLoss, lastLoss, Double.NaN, Double.NaN, 0, null);
            }

            // held-out: the test split, every target of the user and assistant turns, against a unigram model
            List<Gsm8kCorpus.Problem> testProblems = Gsm8kCorpus.read(run.data().resolve(Gsm8kCorpus.TEST_FILE),
                    run.evalLimit());
            int[][] testTokens = encode(tokenizer, testProblems, prefix);
            TokenWindows testWindows = new TokenWindows(testTokens, prefix, config.seqLen(), config.seed(), false);
            double[] heldOut = evaluate(model, testWindows);
            double unigram = unigramLoss(trainTokens, testTokens, prefix, vocab);
            say("held-out (GSM8K test, %d problems, %d targets): loss %.4f nats/token (perplexity %.2f);"
                            + " unigram baseline %.4f (perplexity %.2f)", testProblems.size(), (long) heldOut[1],
                    heldOut[0], Math.exp(heldOut[0]), unigram, Math.exp(unigram));

            ObjectNode training = JSON.createObjectNode();
            training.put("trainer", "io.moeagent.host.train.Trainer (host.jar train)");
            training.set("config", JSON.valueToTree(config));
            training.put("train_problems", trainProblems.size());
            training.put("train_tokens", trainWindows.totalTokens());
            training.put("steps", config.steps());
            training.put("first_loss", firstLoss);
            training.put("final_train_loss", lastLoss);
            training.put("final_train_loss_steps", tail);
            training.put("held_out_problems", testProblems.size());
            training.put("held_out_targets", (long) heldOut[1]);
            training.put("held_out_loss", heldOut[0]);
            training.put("unigram_loss", unigram);
            training.put("train_seconds_this_process", trainSeconds);
            training.set("skipped_steps", skipped);
            Path modelDir = run.out().resolve(MODEL_DIRECTORY);
            HfExport.write(modelDir, model, tokenizerDir, training);
            ObjectNode report = training.deepCopy();
            report.set("loss_per_step", losses);
            report.put("wall_seconds_this_process", (System.nanoTime() - started) / 1e9);
            Files.writeString(run.out().resolve(REPORT), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
            say("wrote %s (a Hugging Face checkpoint: host.jar run --model %s)", modelDir, modelDir);
            model.close();
            return new Result(end, firstLoss, lastLoss, heldOut[0], unigram, (long) heldOut[1], modelDir);
        }
    }

    /** Mean held-out NLL and the number of targets it covers. */
    private double[] evaluate(TrainableMoe model, TokenWindows windows) {
        double sum = 0;
        double count = 0;
        int total = windows.windowsCoveringAll();
        for (int first = 0; first < total; first += config.batch()) {
            int rows = Math.min(config.batch(), total - first);
            TokenWindows.Batch b = windows.batch(first, rows);
            float w = 0;
            for (float x : b.weights()) {
                w += x;
            }
            if (w == 0) {
                continue;
            }
            try (NDScope scope = new NDScope()) {
                TrainableMoe.Loss loss = model.loss(b.inputs(), b.targets(), b.weights(), rows, config.seqLen(), 0);
                sum += loss.lm().getFloat() * (double) w;
                count += w;
            }
        }
        return new double[] {sum / count, count};
    }

    /**
     * Cross-entropy of the test targets under the train targets' token frequencies (add-one smoothed); targets are
     * the tokens after each conversation's system turn, the same ones the model's losses cover.
     */
    static double unigramLoss(int[][] train, int[][] test, int prefix, int vocab) {
        double[] counts = new double[vocab];
        Arrays.fill(counts, 1);
        double total = vocab;
        for (int[] c : train) {
            for (int i = prefix; i < c.length; i++) {
                counts[c[i]]++;
                total++;
            }
        }
        double nll = 0;
        long n = 0;
        for (int[] c : test) {
            for (int i = prefix; i < c.length; i++) {
                nll -= Math.log(counts[c[i]] / total);
                n++;
            }
        }
        return nll / n;
    }

    private void writeTokenizer(List<Gsm8kCorpus.Problem> problems, Path directory) throws IOException {
        int merges = config.vocabSize() - 256 - ByteLevelBpeTrainer.SPECIAL_TOKENS.size();
        ByteLevelBpeTrainer.Vocabulary vocabulary = ByteLevelBpeTrainer.train(Gsm8kCorpus.tokenizerCorpus(problems),
                merges);
        Files.createDirectories(directory);
        Files.writeString(directory.resolve(HfTextTokenizer.TOKENIZER_FILE),
                ByteLevelBpeTrainer.tokenizerJson(vocabulary));
        Files.writeString(directory.resolve("tokenizer_config.json"),
                SyntheticCheckpoints.tokenizerConfig(vocabulary));
    }

    private static int vocabularySize(Path tokenizerDir) throws IOException {
        JsonNode root = JSON.readTree(tokenizerDir.resolve(HfTextTokenizer.TOKENIZER_FILE).toFile());
        int max = -1;
        for (JsonNode id : (Iterable<JsonNode>) () -> root.get("model").get("vocab").elements()) {
            max = Math.max(max, id.asInt());
        }
        for (JsonNode t : root.get("added_tokens")) {
            max = Math.max(max, t.get("id").asInt());
        }
        return max + 1;
    }

    private static int specialId(HfTextTokenizer tokenizer, String special) {
        long[] ids = tokenizer.encode(special);
        if (ids.length != 1) {
            throw new IllegalStateException("the tokenizer splits " + special + " into " + ids.length + " tokens");
        }
        return (int) ids[0];
    }

    private static int[][] encode(HfTextTokenizer tokenizer, List<Gsm8kCorpus.Problem> problems, int prefix) {
        long[] system = tokenizer.encode(Gsm8kCorpus.systemTurn());
        int[][] out = new int[problems.size()][];
        for (int i = 0; i < out.length; i++) {
            long[] ids = tokenizer.encode(Gsm8kCorpus.conversation(problems.get(i)));
            if (ids.length < prefix || !Arrays.equals(Arrays.copyOf(ids, prefix), system)) {
                throw new IllegalStateException("problem " + i + " does not start with the system turn's tokens");
            }
            out[i] = Arrays.stream(ids).mapToInt(Math::toIntExact).toArray();
        }
        return out;
    }

    private static long bytes(List<Gsm8kCorpus.Problem> problems) {
        long n = 0;
        for (Gsm8kCorpus.Problem p : problems) {
            n += Gsm8kCorpus.conversation(p).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        }
        return n;
    }

    private static long parameterCount(TrainableMoe model) {
        long n = 0;
        for (NDArray p : model.params().values()) {
            n += p.getShape().size();
        }
        return n;
    }

    private static double mean(ArrayNode values, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += values.get(i).asDouble();
        }
        return s / (to - from);
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    private void say(String format, Object... args) {
        log.printf(Locale.ROOT, format + "%n", args);
        log.flush();
    }

}
