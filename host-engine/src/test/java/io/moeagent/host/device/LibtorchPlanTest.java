package io.moeagent.host.device;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which libtorch each machine gets, and the one line when --device gpu cannot be had, over fake layouts. */
class LibtorchPlanTest {
    @TempDir
    Path dir;

    private static void contains(String text, String... parts) {
        assertTrue(text != null, "no text");
        for (String p : parts) {
            assertTrue(text.contains(p), "'" + p + "' not in: " + text);
        }
    }

    @Test
    void noDriverAutoTakesTheBundledCpuBuildAndSaysWhy() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar();
        LibtorchPlan p = m.plan(DeviceRequest.AUTO);
        assertFalse(p.refused());
        assertEquals(LibtorchPlan.Source.BUNDLED_CPU, p.source());
        assertEquals(m.home.resolve("lib/pytorch-native-cpu-2.7.1-linux-x86_64.jar"), p.addJar());
        assertEquals(Map.of(), p.properties());
        assertEquals("no NVIDIA driver was found", p.cpuBecause());
        assertEquals(p.source(), m.plan(DeviceRequest.CPU).source());
    }

    @Test
    void noDriverGpuSaysSoAndWhereItLooked() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar();
        m.env.put("LD_LIBRARY_PATH", "/opt/cuda/lib64");
        LibtorchPlan p = m.plan(DeviceRequest.GPU);
        assertTrue(p.refused());
        assertEquals("--device gpu: no NVIDIA driver found (no " + m.root.resolve("proc/driver/nvidia/version")
                + "; no libcuda.so.1 in /opt/cuda/lib64, " + m.root.resolve("usr/lib/x86_64-linux-gnu") + ", "
                + m.root.resolve("usr/lib64") + ", " + m.root.resolve("usr/lib") + ", "
                + m.root.resolve("usr/local/nvidia/lib64") + ", " + m.root.resolve("usr/lib/wsl/lib")
                + "); install NVIDIA's driver, or use --device cpu or auto", p.refusal());
    }

    @Test
    void driverReadFromProcAndFromLibcudaAlone() throws IOException {
        FakeMachine proc = new FakeMachine(dir.resolve("a")).withProcDriver(2);
        NvidiaDriver d = proc.facts().driver();
        assertTrue(d.present());
        assertEquals("550.54.15", d.version());
        assertEquals(2, d.listedGpus());
        assertEquals("driver 550.54.15 (" + proc.root.resolve("proc/driver/nvidia/version") + ")", d.describe());

        FakeMachine wsl = new FakeMachine(dir.resolve("b")).withLibcudaOnly("usr/lib/wsl/lib");
        NvidiaDriver w = wsl.facts().driver();
        assertTrue(w.present());
        assertEquals("535.104.05", w.version());
        assertEquals(wsl.root.resolve("usr/lib/wsl/lib/libcuda.so.1"), w.evidence());
        assertEquals(0, w.listedGpus());
    }

    @Test
    void driverOfflineWithoutDjlsCudaBuildRefusesGpuNamingTheSetting() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar().withProcDriver(1);
        LibtorchPlan p = m.plan(DeviceRequest.GPU);
        assertEquals("--device gpu: NVIDIA driver 550.54.15 (" + m.root.resolve("proc/driver/nvidia/version")
                + ") found, but the libtorch in use is a CPU build (DJL's CUDA build, libtorch 2.7.1 cu128, is not in "
                + m.cache.resolve("pytorch/2.7.1-cu128-linux-x86_64") + " and DJL's downloads are off); run once "
                + "with DJL_OFFLINE=false to let DJL download it (a few GB, once), or set PYTORCH_LIBRARY_PATH to a "
                + "local CUDA libtorch; see README, section GPU", p.refusal());

        LibtorchPlan auto = m.plan(DeviceRequest.AUTO);
        assertEquals(LibtorchPlan.Source.BUNDLED_CPU, auto.source());
        contains(auto.cpuBecause(), "NVIDIA driver 550.54.15", "is there but the libtorch is a CPU build",
                "to use the GPU: run once with DJL_OFFLINE=false");
    }

    @Test
    void driverOnlineLetsDjlDownloadItsCudaBuild() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar().withProcDriver(1);
        m.env.put("DJL_OFFLINE", "false");
        for (DeviceRequest r : new DeviceRequest[] {DeviceRequest.GPU, DeviceRequest.AUTO}) {
            LibtorchPlan p = m.plan(r);
            assertEquals(LibtorchPlan.Source.DJL_CUDA_DOWNLOAD, p.source());
            assertTrue(p.cuda());
            assertNull(p.addJar(), "the CPU natives jar must stay hidden from DJL");
            assertEquals(Map.of("PYTORCH_FLAVOR", "cu128"), p.properties());
            contains(p.reason(), "downloads once", m.cache.resolve("pytorch/2.7.1-cu128-linux-x86_64").toString());
        }
        assertEquals(LibtorchPlan.Source.BUNDLED_CPU, m.plan(DeviceRequest.CPU).source());
    }

    @Test
    void cachedCudaBuildIsUsedOfflineAndCpuStillGetsTheBundledBuild() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar().withProcDriver(1);
        Path cuda = m.djlCacheBuild("2.7.1-cu128-linux-x86_64", true);
        for (DeviceRequest r : new DeviceRequest[] {DeviceRequest.GPU, DeviceRequest.AUTO}) {
            LibtorchPlan p = m.plan(r);
            assertEquals(LibtorchPlan.Source.DJL_CUDA_CACHED, p.source());
            assertEquals(Map.of("PYTORCH_FLAVOR", "cu128"), p.properties());
            assertEquals("DJL's CUDA build, already in DJL's cache: libtorch 2.7.1 cu128 at " + cuda, p.reason());
        }
        assertEquals(LibtorchPlan.Source.BUNDLED_CPU, m.plan(DeviceRequest.CPU).source());
    }

    @Test
    void aCpuBuildInDjlsCacheIsNotMistakenForCuda() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar().withProcDriver(1);
        m.djlCacheBuild("2.7.1-cu128-linux-x86_64", false); // a name that lies: no libtorch_cuda.so
        assertEquals("cpu", m.facts().djlCuda().flavour());
    }

    @Test
    void pytorchFlavorCpuRefusesGpuAndNamesTheFix() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar().withProcDriver(1);
        m.env.put("PYTORCH_FLAVOR", "cpu");
        m.env.put("DJL_OFFLINE", "false");
        contains(m.plan(DeviceRequest.GPU).refusal(), "--device gpu: NVIDIA driver 550.54.15",
                "CPU build (PYTORCH_FLAVOR=cpu asks DJL for its CPU build); unset PYTORCH_FLAVOR (or set PYTORCH_FLAVOR=cu128)");
        LibtorchPlan auto = m.plan(DeviceRequest.AUTO);
        assertEquals(LibtorchPlan.Source.BUNDLED_CPU, auto.source());
        contains(auto.cpuBecause(), "PYTORCH_FLAVOR=cpu");
    }

    @Test
    void cpuNativesOnTheClassPathRefuseGpuWithTheFix() throws IOException {
        FakeMachine m = new FakeMachine(dir).withProcDriver(1).withClasspathNatives("cpu");
        m.djlCacheBuild("2.7.1-cu128-linux-x86_64", true); // DJL would not get to it: the jar wins
        LibtorchPlan p = m.plan(DeviceRequest.GPU);
        contains(p.refusal(), "--device gpu: NVIDIA driver 550.54.15", "CPU build (pytorch-native-cpu is on the class path: "
                + m.home.resolve("cp") + ")", "start the host with 'java -jar host-engine/target/host.jar'");
        LibtorchPlan auto = m.plan(DeviceRequest.AUTO);
        assertEquals(LibtorchPlan.Source.CLASS_PATH, auto.source());
        assertNull(auto.addJar());
        contains(auto.cpuBecause(), "pytorch-native-cpu is on the class path");

        FakeMachine noDriver = new FakeMachine(dir.resolve("n")).withClasspathNatives("cpu");
        contains(noDriver.plan(DeviceRequest.GPU).refusal(), "no NVIDIA driver found");
    }

    @Test
    void localCpuLibtorchRefusesGpu() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar().withProcDriver(1);
        Path lib = m.pipTorch("2.7.1", null);
        m.env.put("PYTORCH_LIBRARY_PATH", lib.toString());
        assertEquals("--device gpu: NVIDIA driver 550.54.15 (" + m.root.resolve("proc/driver/nvidia/version")
                + ") found, but the libtorch in use is a CPU build (PYTORCH_LIBRARY_PATH=" + lib + " has no "
                + "libtorch_cuda.so); point PYTORCH_LIBRARY_PATH at the lib directory of a CUDA build, or unset it to "
                + "use DJL's CUDA build", m.plan(DeviceRequest.GPU).refusal());
        LibtorchPlan cpu = m.plan(DeviceRequest.CPU);
        assertEquals(LibtorchPlan.Source.PYTORCH_LIBRARY_PATH, cpu.source());
        assertEquals(Map.of("PYTORCH_VERSION", "2.7.1", "PYTORCH_FLAVOR", "cpu"), cpu.properties());
    }

    @Test
    void localCudaLibtorchOfDjlsVersionUsesTheJniDjlCarries() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar().withProcDriver(1);
        Path lib = m.pipTorch("2.7.1", "12.8");
        m.env.put("PYTORCH_LIBRARY_PATH", lib.toString());
        LibtorchPlan p = m.plan(DeviceRequest.GPU);
        assertFalse(p.refused(), p.refusal());
        assertTrue(p.cuda());
        assertEquals("PYTORCH_LIBRARY_PATH: libtorch 2.7.1 cu128 at " + lib, p.reason());
        assertEquals(Map.of("PYTORCH_VERSION", "2.7.1", "PYTORCH_FLAVOR", "cu128"), p.properties());
        assertNull(p.addJar());
    }

    @Test
    void localLibtorchOfAnotherVersionNeedsAJniBuiltForIt() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar().withProcDriver(1);
        Path lib = m.pipTorch("2.11.0", "13.0");
        m.env.put("PYTORCH_LIBRARY_PATH", lib.toString());
        Path jni = m.cache.resolve("pytorch/2.11.0-cu130-linux-x86_64/0.36.0-libdjl_torch.so");
        assertEquals("no DJL JNI library for libtorch 2.11.0 cu130 at " + lib + ": DJL 0.36.0 looks for "
                + lib.resolve("0.36.0-libdjl_torch.so") + " or " + jni + " and carries its own only for libtorch "
                + "2.7.1 cpu/cu128; build DJL's JNI against this libtorch and put it there (see README, section GPU)",
                m.plan(DeviceRequest.GPU).refusal());
        Files.createDirectories(jni.getParent());
        Files.writeString(jni, "");
        LibtorchPlan p = m.plan(DeviceRequest.GPU);
        assertFalse(p.refused(), p.refusal());
        assertEquals(Map.of("PYTORCH_VERSION", "2.11.0", "PYTORCH_FLAVOR", "cu130"), p.properties());
    }

    @Test
    void aLibtorchZipSaysItsVersionInBuildVersion() throws IOException {
        FakeMachine m = new FakeMachine(dir).withProcDriver(1);
        Path lib = Files.createDirectories(dir.resolve("libtorch/lib"));
        Files.writeString(dir.resolve("libtorch/build-version"), "2.7.1+cu128\n");
        for (String f : new String[] {"libtorch.so", "libtorch_cpu.so", "libtorch_cuda.so", "libc10_cuda.so"}) {
            Files.writeString(lib.resolve(f), "");
        }
        m.env.put("PYTORCH_LIBRARY_PATH", lib.toString());
        LibtorchPlan p = m.plan(DeviceRequest.GPU);
        assertEquals("PYTORCH_LIBRARY_PATH: libtorch 2.7.1 cu128 at " + lib, p.reason());
        assertEquals(Map.of("PYTORCH_VERSION", "2.7.1", "PYTORCH_FLAVOR", "cu128"), p.properties());
    }

    @Test
    void userSettingsAreNeverOverwritten() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar().withProcDriver(1);
        Path lib = m.pipTorch("2.7.1", "12.8");
        m.env.put("PYTORCH_LIBRARY_PATH", lib.toString());
        m.env.put("PYTORCH_FLAVOR", "cu128");
        m.env.put("PYTORCH_VERSION", "2.7.1");
        assertEquals(Map.of(), m.plan(DeviceRequest.GPU).properties());
    }

    @Test
    void aLibraryPathWithoutLibtorchStopsEveryRequest() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar();
        Path empty = Files.createDirectories(dir.resolve("empty"));
        m.env.put("PYTORCH_LIBRARY_PATH", empty.toString());
        for (DeviceRequest r : DeviceRequest.values()) {
            assertEquals("PYTORCH_LIBRARY_PATH='" + empty + "' holds no libtorch.so; point it at the lib directory of "
                    + "a libtorch (e.g. .../site-packages/torch/lib) or unset it", m.plan(r).refusal());
        }
    }

    @Test
    void theFirstLibraryPathEntryWithLibtorchWins() throws IOException {
        FakeMachine m = new FakeMachine(dir).withProcDriver(1);
        Path lib = m.pipTorch("2.7.1", "12.8");
        m.env.put("PYTORCH_LIBRARY_PATH", dir.resolve("nothing-here") + ":" + lib.resolve("libtorch.so"));
        assertEquals(lib, m.facts().override().dir());
        assertTrue(m.plan(DeviceRequest.GPU).cuda());
    }

    @Test
    void withoutTheBundledJarOfflineCpuCannotStart() throws IOException {
        FakeMachine m = new FakeMachine(dir);
        assertEquals("the bundled CPU libtorch (lib/pytorch-native-cpu-*.jar next to host.jar) is missing; rebuild "
                + "with 'mvn -B package -pl host-engine -am', or set PYTORCH_LIBRARY_PATH to a local libtorch",
                m.plan(DeviceRequest.CPU).refusal());
        m.env.put("DJL_OFFLINE", "false");
        assertEquals(LibtorchPlan.Source.DJL_DEFAULT, m.plan(DeviceRequest.CPU).source());
    }

    @Test
    void onlyLinuxX86GetsDjlsCudaBuild() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar().withProcDriver(1);
        m.env.put("DJL_OFFLINE", "false");
        LibtorchPlan p = LibtorchPlan.decide(DeviceRequest.GPU, m.facts(), "Linux", "aarch64");
        contains(p.refusal(), "linux x86_64 only, this is Linux aarch64");
        assertEquals(LibtorchPlan.Source.BUNDLED_CPU,
                LibtorchPlan.decide(DeviceRequest.AUTO, m.facts(), "Linux", "aarch64").source());
    }

    @Test
    void engineCacheDirFollowsDjlsOrder() throws IOException {
        FakeMachine m = new FakeMachine(dir);
        assertEquals(m.cache, m.facts().engineCacheDir());
        m.env.put("ENGINE_CACHE_DIR", dir.resolve("engines").toString());
        assertEquals(dir.resolve("engines"), m.facts().engineCacheDir());
        m.env.remove("ENGINE_CACHE_DIR");
        m.env.remove("DJL_CACHE_DIR");
        assertEquals(m.home.resolve(".djl.ai"), m.facts().engineCacheDir());
    }
}
