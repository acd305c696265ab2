package io.moeagent.host.device;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged {@code java -jar host.jar}: its Class-Path leaves out the CPU natives jar, the host hands that jar to
 * DJL for CPU runs, and with a (fake) NVIDIA driver DJL is sent to its CUDA build instead. The driver files are faked
 * through {@link LibtorchBootstrap#ROOT_PROPERTY}; the CUDA build is a fake layout of empty libraries, which DJL
 * really tries to load: that it fails on exactly those files shows where DJL went.
 */
class HostJarIT {
    static final Path HOST_DIR = Path.of(System.getProperty("moe.host.dir", "target")).toAbsolutePath();
    static final Path JAR = HOST_DIR.resolve("host.jar");
    static final Path MODEL_CACHE = HOST_DIR.resolve("test-moe-cache");

    @TempDir
    static Path dir;
    static Path noDriver;
    static Path driver;

    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    @BeforeAll
    static void machines() throws IOException {
        Assumptions.assumeTrue(Files.isRegularFile(JAR), JAR + " not built");
        noDriver = Files.createDirectories(dir.resolve("no-driver"));
        driver = Files.createDirectories(dir.resolve("driver"));
        Path proc = Files.createDirectories(driver.resolve("proc/driver/nvidia"));
        Files.writeString(proc.resolve("version"), FakeMachine.PROC_VERSION);
    }

    static Result host(Path root, Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-D" + LibtorchBootstrap.ROOT_PROPERTY + "=" + root, "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeAll(List.of("PYTORCH_LIBRARY_PATH", "PYTORCH_FLAVOR", "PYTORCH_VERSION",
                "ENGINE_CACHE_DIR", "CUDA_VISIBLE_DEVICES", "MOE_ROUTE_LOG"));
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("MOE_CACHE_DIR", MODEL_CACHE.toString());
        pb.environment().putAll(env);
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("host.jar timed out: " + cmd);
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void manifestLeavesTheCpuNativesOutButLibHasThem() throws IOException {
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(JAR.toFile())) {
            String cp = jar.getManifest().getMainAttributes().getValue("Class-Path");
            assertTrue(cp.contains("lib/pytorch-jni-") && cp.contains("lib/pytorch-engine-"), cp);
            assertTrue(!cp.contains("pytorch-native-cpu"), cp);
            for (String entry : cp.split(" ")) {
                assertTrue(Files.isRegularFile(HOST_DIR.resolve(entry)), entry + " is not in lib/");
            }
        }
        try (var s = Files.list(HOST_DIR.resolve("lib"))) {
            assertEquals(1, s.filter(p -> p.getFileName().toString().startsWith("pytorch-native-cpu-")).count());
        }
    }

    @Test
    void withoutDriverTheDefaultRunGetsTheBundledCpuBuildOffline() throws Exception {
        Result doctor = host(noDriver, Map.of(), "doctor");
        assertEquals(0, doctor.code(), doctor.toString());
        assertTrue(doctor.out().contains("libtorch plan: the bundled CPU build (" + HOST_DIR.resolve(
                "lib/pytorch-native-cpu-2.7.1-linux-x86_64.jar") + ")"), doctor.toString());
        assertTrue(doctor.out().contains("libtorch:      libtorch 2.7.1 (CPU build) at "), doctor.toString());
        assertTrue(doctor.out().contains("choice:        --device auto: cpu, because no NVIDIA driver was found"),
                doctor.toString());

        Result run = host(noDriver, Map.of(), "run", "--limit", "1", "--max-new-tokens", "2");
        assertEquals(0, run.code(), run.toString());
        assertEquals("--device auto: cpu, because no NVIDIA driver was found", run.err().lines().findFirst().orElse(""),
                run.toString());
        assertTrue(run.out().contains("--- [0] 2 tokens"), run.toString());
    }

    @Test
    void driverButNoCudaBuildOfflineRefusesGpuInOneLine() throws Exception {
        Path cache = Files.createDirectories(dir.resolve("empty-engine-cache"));
        Result run = host(driver, Map.of("ENGINE_CACHE_DIR", cache.toString()), "run", "--device", "gpu");
        assertEquals(1, run.code(), run.toString());
        assertEquals(List.of("error: --device gpu: NVIDIA driver 550.54.15 (" + driver.resolve("proc/driver/nvidia/version")
                + ") found, but the libtorch in use is a CPU build (DJL's CUDA build, libtorch 2.7.1 cu128, is not in "
                + cache.resolve("pytorch/2.7.1-cu128-linux-x86_64") + " and DJL's downloads are off); run once with "
                + "DJL_OFFLINE=false to let DJL download it (a few GB, once), or set PYTORCH_LIBRARY_PATH to a local CUDA "
                + "libtorch; see README, section GPU"), run.err().lines().toList());
        assertEquals("", run.out());

        Result auto = host(driver, Map.of("ENGINE_CACHE_DIR", cache.toString()), "doctor", "--no-engine");
        assertEquals(0, auto.code(), auto.toString());
        assertTrue(auto.out().contains("choice:        --device auto: cpu, because NVIDIA driver 550.54.15 ("
                + driver.resolve("proc/driver/nvidia/version") + ") is there but the libtorch is a CPU build (DJL's "
                + "CUDA build, libtorch 2.7.1 cu128, is not in " + cache.resolve("pytorch/2.7.1-cu128-linux-x86_64")
                + " and DJL's downloads are off); to use the GPU: run once with DJL_OFFLINE=false"), auto.toString());
        assertTrue(auto.out().lines().anyMatch(l -> l.equals("device:        cpu")), auto.toString());
        try (var s = Files.list(cache)) {
            assertEquals(0, s.count(), "nothing extracted or downloaded");
        }
    }

    @Test
    void driverAndDjlsCudaBuildInTheCacheSendDjlThere() throws Exception {
        Path cache = Files.createDirectories(dir.resolve("cuda-engine-cache"));
        Path cuda = Files.createDirectories(cache.resolve("pytorch/2.7.1-cu128-linux-x86_64"));
        for (String lib : List.of("libc10.so", "libtorch.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so")) {
            Files.writeString(cuda.resolve(lib), ""); // not loadable: DJL fails on the first it tries
        }
        Map<String, String> env = Map.of("ENGINE_CACHE_DIR", cache.toString());
        Result doctor = host(driver, env, "doctor", "--device", "gpu", "--no-engine");
        assertEquals(0, doctor.code(), doctor.toString());
        assertTrue(doctor.out().contains("libtorch plan: DJL's CUDA build, already in DJL's cache: libtorch 2.7.1 cu128 at "
                + cuda), doctor.toString());
        assertTrue(doctor.out().contains("device:        gpu0, if libtorch sees a CUDA device once loaded"), doctor.out());
        assertTrue(doctor.out().contains("dtype:         float16"), doctor.out());
        assertTrue(doctor.out().contains("experts:       stacked dispatch"), doctor.out());

        Result run = host(driver, env, "run", "--device", "gpu", "--limit", "1");
        assertEquals(1, run.code(), run.toString());
        // the JVM itself warns about the empty files ("... might have disabled stack guard"): skip its lines
        List<String> err = run.err().lines().filter(l -> !l.startsWith("OpenJDK") && !l.startsWith("It's highly")
                && !l.startsWith("Java HotSpot")).toList();
        assertEquals(1, err.size(), run.toString());
        assertTrue(err.get(0).startsWith("error: DJL could not load libtorch (DJL's CUDA build, already in DJL's cache: "
                + "libtorch 2.7.1 cu128 at " + cuda + "): "), run.toString());
        assertTrue(err.get(0).contains(cuda.resolve("libc10.so").toString()), "DJL loaded from the CUDA build: " + run);
    }
}
