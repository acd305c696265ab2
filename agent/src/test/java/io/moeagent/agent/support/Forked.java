package io.moeagent.agent.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a real JVM (or the attach CLI) in a child process and captures its exit code and output. */
public final class Forked {
    public static final Path AGENT_JAR = Path.of(System.getProperty("moe.agent.jar", "target/moe-agent.jar"))
            .toAbsolutePath();
    public static final Path HOST_DIR = Path.of(System.getProperty("moe.host.dir", "../host-engine/target"))
            .toAbsolutePath().normalize();
    public static final Path HOST_JAR = HOST_DIR.resolve("host.jar");
    public static final Path TEST_CLASSES = Path.of("target/test-classes").toAbsolutePath();
    public static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    public static final Path JAVA25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");

    public record Result(int exitCode, String stdout, String stderr) {
        /** Lines of stderr that the agent wrote. */
        public List<String> agentLines() {
            return stderr.lines().filter(l -> l.startsWith("moe-agent:")).toList();
        }

        /** Lines the JVM itself warns with ({@code WARNING: ...}), on stdout or stderr. */
        public List<String> jvmWarnings() {
            return (stdout + "\n" + stderr).lines().filter(l -> l.startsWith("WARNING:")).toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + tail(stdout) + "\n--- stderr\n" + tail(stderr);
        }

        private static String tail(String s) {
            return s.length() > 4000 ? "..." + s.substring(s.length() - 4000) : s;
        }
    }

    private Forked() {
    }

    public static Result run(List<String> command, Map<String, String> env, Path workDir, long timeoutSeconds)
            throws IOException, InterruptedException {
        Process p = start(command, env, workDir);
        return finish(p, timeoutSeconds);
    }

    public static Process start(List<String> command, Map<String, String> env, Path workDir) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
        pb.environment().remove("MOE_ROUTE_LOG");
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().putAll(env);
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        OUTPUTS.put(p, new Path[] {out, err});
        return p;
    }

    private static final Map<Process, Path[]> OUTPUTS = new java.util.concurrent.ConcurrentHashMap<>();

    public static Result finish(Process p, long timeoutSeconds) throws IOException, InterruptedException {
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            Path[] files = OUTPUTS.remove(p);
            throw new AssertionError("forked JVM timed out after " + timeoutSeconds + " s\n"
                    + new Result(-1, Files.readString(files[0]), Files.readString(files[1])));
        }
        return collect(p);
    }

    public static Result collect(Process p) throws IOException {
        Path[] files = OUTPUTS.remove(p);
        return new Result(p.exitValue(), Files.readString(files[0]), Files.readString(files[1]));
    }

    public static String stdoutSoFar(Process p) throws IOException {
        return Files.readString(OUTPUTS.get(p)[0]);
    }

    public static String stderrSoFar(Process p) throws IOException {
        return Files.readString(OUTPUTS.get(p)[1]);
    }

    /** {@code java [jvmArgs] -cp test-classes MAIN args} with the agent given as {@code agentArg} (null = none). */
    public static List<String> fixture(String java, String agentOptions, List<String> jvmArgs, String main,
                                       String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        if (agentOptions != null) {
            cmd.add("-javaagent:" + AGENT_JAR + (agentOptions.isEmpty() ? "" : "=" + agentOptions));
        }
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(TEST_CLASSES.toString());
        cmd.add(main);
        cmd.addAll(List.of(args));
        return cmd;
    }

    public static boolean hostBuilt() {
        return Files.isRegularFile(HOST_JAR) && Files.isDirectory(HOST_DIR.resolve("lib"));
    }
}
