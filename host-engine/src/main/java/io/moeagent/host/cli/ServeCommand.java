package io.moeagent.host.cli;

import io.moeagent.host.serve.CompletionServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** Serves OpenAI-style completions over HTTP until SIGTERM or Ctrl-C. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Answer POST /v1/completions and /v1/chat/completions; GET /health.")
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--port", paramLabel = "P", required = true, description = "TCP port; 0 picks a free one (printed on stdout).")
    int port;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String bindAddress;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new UserError("--port must be 0..65535, got " + port);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        EngineSession engine = EngineSession.open(model, err);
        CompletionServer server;
        try {
            server = CompletionServer.start(bindAddress, port, engine.generator, engine.tokenizer(),
                    engine.checkpoint.modelId(), engine.checkpoint.chatModel(), model.seed,
                    engine.model.config().maxPositionEmbeddings());
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread shutdown = new Thread(() -> {
            server.stop();
            synchronized (engine.generator) { // generate() holds this lock: let a running request finish first
                engine.close();
            }
            stopped.countDown();
        }, "host-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);
        if (engine.deviceNote != null) {
            err.println(engine.deviceNote);
        }
        out.println("listening on port " + server.port());
        out.flush();
        err.println("serving " + engine.checkpoint.modelId() + " on http://" + bindAddress + ":" + server.port()
                + " (" + engine.runInfo.get("device") + ", " + engine.runInfo.get("dtype") + "); Ctrl-C stops");
        err.flush();
        stopped.await();
        return 0;
    }
}
