package io.moeagent.host.cli;

import io.moeagent.host.generate.ContinuousBatcher;
import io.moeagent.host.generate.GenerationProgress;
import io.moeagent.host.serve.CompletionServer;
import io.moeagent.host.serve.ServerLimits;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** Serves OpenAI-compatible completions over HTTP, with continuous batching, until SIGTERM or Ctrl-C. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Answer POST /v1/completions and /v1/chat/completions (streaming or whole), GET /v1/models"
                + " and GET /health; requests share forward steps (continuous batching).")
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--port", paramLabel = "P", required = true, description = "TCP port; 0 picks a free one (printed on stdout).")
    int port;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String bindAddress;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "16",
            description = "Requests running at once; more wait for a free slot. 1 answers one request at a time"
                    + " (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-batch-tokens", paramLabel = "N", defaultValue = "256",
            description = "Tokens one forward step may hold: every running request's decode token first, then"
                    + " prefill chunks of new ones (default: ${DEFAULT-VALUE}).")
    int maxBatchTokens;

    @Option(names = "--prefill-chunk", paramLabel = "N", defaultValue = "64",
            description = "Most prompt tokens of one request in one step; longer prompts are prefilled over several"
                    + " steps alongside the others' decoding (default: ${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--idle-timeout-ms", paramLabel = "MS", defaultValue = "30000",
            description = "Close a connection that sends or takes nothing for this long, also one that never finishes"
                    + " its headers (default: ${DEFAULT-VALUE}).")
    long idleTimeoutMillis;

    @Option(names = "--http-threads", paramLabel = "N", defaultValue = "64",
            description = "HTTP worker threads; each streaming answer holds one (default: ${DEFAULT-VALUE}).")
    int httpThreads;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "256",
            description = "Open connections accepted at once (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new UserError("--port must be 0..65535, got " + port);
        }
        if (maxBatch < 1 || maxBatch > 1024) {
            throw new UserError("--max-batch must be 1..1024, got " + maxBatch);
        }
        if (prefillChunk < 1) {
            throw new UserError("--prefill-chunk must be >= 1, got " + prefillChunk);
        }
        if (maxBatchTokens < maxBatch) {
            throw new UserError("--max-batch-tokens (" + maxBatchTokens + ") must be >= --max-batch (" + maxBatch
                    + "): every running request decodes one token per step");
        }
        if (idleTimeoutMillis < 1 || httpThreads < 4 || maxConnections < 1) {
            throw new UserError("--idle-timeout-ms must be >= 1, --http-threads >= 4 and --max-connections >= 1");
        }
        ServerLimits limits = new ServerLimits(httpThreads, maxConnections, idleTimeoutMillis,
                ServerLimits.DEFAULT.maxHeaderBytes(), ServerLimits.DEFAULT.maxBodyBytes());
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        EngineSession engine = EngineSession.open(model, err);
        ContinuousBatcher batcher;
        CompletionServer server;
        try {
            batcher = new ContinuousBatcher(engine.model, engine.checkpoint.eosTokenIds(), engine.runInfo,
                    new ContinuousBatcher.Limits(maxBatch, maxBatchTokens, prefillChunk), GenerationProgress.NONE);
            try {
                server = CompletionServer.start(bindAddress, port, batcher, engine.tokenizer(),
                        engine.checkpoint.modelId(), engine.checkpoint.chatModel(), model.seed,
                        engine.model.config().maxPositionEmbeddings(), limits);
            } catch (RuntimeException e) {
                batcher.close(0);
                throw e;
            }
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread shutdown = new Thread(() -> {
            try {
                server.stop();
            } finally {
                batcher.close(2000); // the engine thread owns the cache: it ends before the model is closed
                engine.close();
                stopped.countDown();
            }
        }, "host-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);
        if (engine.deviceNote != null) {
            err.println(engine.deviceNote);
        }
        out.println("listening on port " + server.port());
        out.flush();
        err.println("serving " + engine.checkpoint.modelId() + " on http://" + bindAddress + ":" + server.port()
                + " (" + engine.runInfo.get("device") + ", " + engine.runInfo.get("dtype") + ", up to " + maxBatch
                + " requests per step); Ctrl-C stops");
        err.flush();
        stopped.await();
        return 0;
    }
}
