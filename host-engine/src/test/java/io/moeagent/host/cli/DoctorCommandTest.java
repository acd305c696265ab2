package io.moeagent.host.cli;

import io.moeagent.host.device.LibtorchBootstrap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code host doctor} in this JVM, where the CPU natives jar is on the test class path (as from an IDE): every line
 * it prints, with the machine's driver files replaced by fake ones through {@link LibtorchBootstrap#ROOT_PROPERTY}.
 */
class DoctorCommandTest {
    @TempDir
    Path dir;

    @AfterEach
    void realRoot() {
        System.clearProperty(LibtorchBootstrap.ROOT_PROPERTY);
    }

    private static String line(CliHarness run, String key) {
        return run.out.lines().filter(l -> l.startsWith(key + ":")).map(l -> l.substring(key.length() + 1).strip())
                .findFirst().orElseThrow(() -> new AssertionError("no '" + key + ":' line in\n" + run));
    }

    @Test
    void reportsEverythingARunWouldUseWithoutLoadingAModel() {
        System.setProperty(LibtorchBootstrap.ROOT_PROPERTY, dir.toString()); // no driver files
        CliHarness run = CliHarness.run("doctor", "--model", dir.resolve("no-such-model").toString());
        assertEquals(0, run.exitCode, run.toString());
        List<String> keys = run.out.lines().map(l -> l.substring(0, l.indexOf(':'))).toList();
        assertEquals(List.of("java", "djl", "os", "nvidia driver", "settings", "djl cache", "requested",
                "libtorch plan", "libtorch", "cuda devices", "choice", "device", "dtype", "experts", "status"), keys,
                run.toString());
        assertTrue(line(run, "java").startsWith(System.getProperty("java.version") + " ("), run.out);
        assertEquals("0.36.0, PyTorch engine for libtorch 2.7.1", line(run, "djl"));
        assertTrue(line(run, "nvidia driver").startsWith("none found (no " + dir.resolve("proc/driver/nvidia/version")),
                run.out);
        assertTrue(line(run, "settings").contains("CUDA_VISIBLE_DEVICES"), run.out);
        assertEquals("--device auto", line(run, "requested"));
        assertTrue(line(run, "libtorch plan").startsWith("a cpu natives jar on the class path ("), run.out);
        assertTrue(line(run, "libtorch").matches("libtorch 2\\.7\\.1 \\(CPU build\\) at .*2\\.7\\.1-\\d+-cpu-linux-x86_64"),
                run.out);
        assertEquals("none: a CPU build", line(run, "cuda devices"));
        assertEquals("--device auto: cpu, because no NVIDIA driver was found", line(run, "choice"));
        assertEquals("cpu", line(run, "device"));
        assertEquals("float32", line(run, "dtype"));
        assertEquals("loop dispatch", line(run, "experts"));
        assertEquals("ok", line(run, "status"));
        assertEquals("", run.err);
    }

    @Test
    void dtypeAndDispatchFollowTheOptions() {
        System.setProperty(LibtorchBootstrap.ROOT_PROPERTY, dir.toString());
        CliHarness run = CliHarness.run("doctor", "--device", "cpu", "--dtype", "float16", "--experts", "stacked");
        assertEquals(0, run.exitCode, run.toString());
        assertEquals("float16", line(run, "dtype"));
        assertEquals("stacked dispatch", line(run, "experts"));
        assertTrue(run.out.lines().noneMatch(l -> l.startsWith("choice:")), run.out);
    }

    @Test
    void gpuWithoutDriverFailsWithTheLine() {
        System.setProperty(LibtorchBootstrap.ROOT_PROPERTY, dir.toString());
        CliHarness run = CliHarness.run("doctor", "--device", "gpu");
        assertEquals(1, run.exitCode, run.toString());
        assertTrue(line(run, "status").startsWith("--device gpu: no NVIDIA driver found (no "
                + dir.resolve("proc/driver/nvidia/version") + "; no libcuda.so.1 in "), run.out);
        assertTrue(run.out.lines().noneMatch(l -> l.startsWith("device:")), "no device when it cannot be had");
    }

    @Test
    void gpuWithDriverButTheCpuJarOnTheClassPathNamesTheFix() throws Exception {
        Path proc = Files.createDirectories(dir.resolve("proc/driver/nvidia/gpus/0000:01:00.0")).getParent().getParent();
        Files.writeString(proc.resolve("version"), "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 2024\n");
        System.setProperty(LibtorchBootstrap.ROOT_PROPERTY, dir.toString());
        CliHarness run = CliHarness.run("doctor", "--device", "gpu", "--no-engine");
        assertEquals(1, run.exitCode, run.toString());
        assertEquals("driver 550.54.15 (" + proc.resolve("version") + "), 1 GPU listed in /proc/driver/nvidia/gpus",
                line(run, "nvidia driver"));
        String status = line(run, "status");
        assertTrue(status.startsWith("--device gpu: NVIDIA driver 550.54.15 (" + proc.resolve("version") + ") found, "
                + "but the libtorch in use is a CPU build (pytorch-native-cpu is on the class path: "), status);
        assertTrue(status.endsWith("start the host with 'java -jar host-engine/target/host.jar', which keeps the CPU "
                + "natives off the class path unless the CPU build is wanted, or drop that jar from -cp"), status);

        CliHarness auto = CliHarness.run("doctor", "--no-engine");
        assertEquals(0, auto.exitCode, auto.toString());
        assertEquals("not loaded (--no-engine)", line(auto, "libtorch"));
        assertTrue(line(auto, "choice").startsWith("--device auto: cpu, because NVIDIA driver 550.54.15 ("), auto.out);
        assertTrue(line(auto, "choice").contains("(pytorch-native-cpu is on the class path: "), auto.out);
        assertEquals("cpu", line(auto, "device"));
    }

    @Test
    void runWithGpuFailsWithOneLineAndNoStackTrace() {
        System.setProperty(LibtorchBootstrap.ROOT_PROPERTY, dir.toString());
        CliHarness run = CliHarness.run("run", "--device", "gpu", "--cache-dir", CliHarness.CACHE.toString(),
                "--limit", "1");
        assertEquals(1, run.exitCode, run.toString());
        List<String> err = run.err.lines().toList();
        assertEquals(1, err.size(), run.toString());
        assertTrue(err.get(0).startsWith("error: --device gpu: no NVIDIA driver found (no "
                + dir.resolve("proc/driver/nvidia/version") + "; no libcuda.so.1 in "), run.toString());
        assertTrue(err.get(0).endsWith("); install NVIDIA's driver, or use --device cpu or auto"), run.toString());
        assertEquals("", run.out);
    }
}
