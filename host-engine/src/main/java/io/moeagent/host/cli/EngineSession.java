package io.moeagent.host.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.moeagent.host.device.DeviceRequest;
import io.moeagent.host.device.LibtorchBootstrap;
import io.moeagent.host.generate.Generator;
import io.moeagent.host.generate.RunInfo;
import io.moeagent.host.io.Checkpoint;
import io.moeagent.host.io.CheckpointLoader;
import io.moeagent.host.model.ExpertLayout;
import io.moeagent.host.model.Qwen2MoeModel;
import io.moeagent.host.tokenizer.TextTokenizer;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;

/** A checkpoint loaded onto a device, with its tokenizer and a generator; everything the commands need. */
final class EngineSession implements AutoCloseable {
    final Checkpoint checkpoint;
    final Device device;
    final DataType dtype;
    final ExpertLayout layout;
    final NDManager manager;
    final Qwen2MoeModel model;
    final Map<String, String> runInfo;
    final Generator generator;
    final double loadMillis;
    /** What {@code --device auto} chose and why (one line for stderr), or null: printed by the command once its
     *  own checks passed, so that a bad input stays one line. */
    final String deviceNote;

    private EngineSession(Checkpoint checkpoint, Device device, DataType dtype, ExpertLayout layout,
                          NDManager manager, Qwen2MoeModel model, Map<String, String> runInfo, double loadMillis,
                          String deviceNote) {
        this.checkpoint = checkpoint;
        this.device = device;
        this.dtype = dtype;
        this.layout = layout;
        this.manager = manager;
        this.model = model;
        this.runInfo = runInfo;
        this.generator = new Generator(model, checkpoint.eosTokenIds(), runInfo);
        this.loadMillis = loadMillis;
        this.deviceNote = deviceNote;
    }

    static EngineSession open(ModelOptions options) {
        return open(options, new PrintWriter(System.err, true));
    }

    /** {@code notes} (null: none) is told of a download before it starts. */
    static EngineSession open(ModelOptions options, PrintWriter notes) {
        long start = System.nanoTime();
        LibtorchBootstrap.Selection selection = select(options.device, notes);
        Device device = selection.choice().gpu() ? Device.gpu() : Device.cpu();
        DataType dtype = dtype(options.dtype, device);
        ExpertLayout layout = layout(options.expertLayout).resolve(device);
        Checkpoint checkpoint = options.cacheDir == null ? CheckpointLoader.load(options.model)
                : CheckpointLoader.load(options.model, options.cacheDir);
        NDManager manager = null;
        try {
            manager = NDManager.newBaseManager(device);
            Qwen2MoeModel model = Qwen2MoeModel.load(checkpoint.config(), checkpoint.weights(), manager, dtype, layout);
            Map<String, String> runInfo = RunInfo.of(checkpoint.modelId(), checkpoint.config(), deviceName(device),
                    dtype == DataType.FLOAT16 ? "float16" : "float32", options.seed);
            EngineSession session = new EngineSession(checkpoint, device, dtype, layout, manager, model, runInfo,
                    (System.nanoTime() - start) / 1e6, selection.choice().line());
            return session;
        } catch (RuntimeException e) {
            if (manager != null) {
                manager.close();
            }
            checkpoint.close();
            throw e;
        }
    }

    TextTokenizer tokenizer() {
        return checkpoint.tokenizer();
    }

    /** Token ids of a user message as the model expects it (chat template for chat models). */
    long[] encodePrompt(String userMessage) {
        return tokenizer().encode(tokenizer().formatPrompt(userMessage));
    }

    /** Loads libtorch as {@link io.moeagent.host.device.LibtorchPlan} decides; one line when it cannot. */
    private static LibtorchBootstrap.Selection select(ModelOptions.DeviceChoice choice, PrintWriter notes) {
        LibtorchBootstrap.Selection s = LibtorchBootstrap.select(DeviceRequest.of(choice.name()), line -> note(notes, line));
        if (s.refusal() != null) {
            throw new UserError(s.refusal());
        }
        return s;
    }

    private static void note(PrintWriter notes, String line) {
        if (notes != null && line != null) {
            notes.println(line);
            notes.flush();
        }
    }

    static DataType dtype(ModelOptions.DtypeChoice choice, Device device) {
        switch (choice) {
            case float32:
                return DataType.FLOAT32;
            case float16:
                return DataType.FLOAT16;
            default:
                return device.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
        }
    }

    static ExpertLayout layout(String name) {
        try {
            return ExpertLayout.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError("--experts '" + name + "': use auto, loop or stacked");
        }
    }

    static String deviceName(Device device) {
        return device.isGpu() ? "gpu" + device.getDeviceId() : "cpu";
    }

    @Override
    public void close() {
        try {
            model.close();
            manager.close();
        } finally {
            checkpoint.close();
        }
    }
}
