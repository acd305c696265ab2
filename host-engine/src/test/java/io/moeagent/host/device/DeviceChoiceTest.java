package io.moeagent.host.device;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device once libtorch is loaded: what --device gpu refuses with and what --device auto says. */
class DeviceChoiceTest {
    @TempDir
    Path dir;

    private static final LoadedLibtorch CUDA_NONE = new LoadedLibtorch("/c/2.7.1-cu128-linux-x86_64", "2.7.1", true, 0);
    private static final LoadedLibtorch CUDA_TWO = new LoadedLibtorch("/c/2.7.1-cu128-linux-x86_64", "2.7.1", true, 2);
    private static final LoadedLibtorch CUDA_UNCOUNTED = new LoadedLibtorch("/c/cu", "2.7.1", true, -1);
    private static final LoadedLibtorch CPU = new LoadedLibtorch("/c/2.7.1-20250812-cpu-linux-x86_64", "2.7.1", false, 0);

    private FakeMachine driver() throws IOException {
        FakeMachine m = new FakeMachine(dir).withBundledJar().withProcDriver(1);
        m.djlCacheBuild("2.7.1-cu128-linux-x86_64", true);
        return m;
    }

    @Test
    void gpuWithCudaButNoVisibleDeviceNamesCudaVisibleDevices() throws IOException {
        FakeMachine m = driver();
        m.env.put("CUDA_VISIBLE_DEVICES", "");
        HostFacts f = m.facts();
        DeviceChoice c = DeviceChoice.decide(DeviceRequest.GPU, m.plan(DeviceRequest.GPU), f, CUDA_NONE);
        assertFalse(c.gpu());
        assertEquals("--device gpu: CUDA libtorch loaded (libtorch 2.7.1 (CUDA build) at /c/2.7.1-cu128-linux-x86_64) "
                + "but no CUDA device is visible (CUDA_VISIBLE_DEVICES=''); check nvidia-smi and CUDA_VISIBLE_DEVICES, "
                + "or use --device cpu", c.refusal());
        m.env.remove("CUDA_VISIBLE_DEVICES");
        assertTrue(DeviceChoice.decide(DeviceRequest.GPU, m.plan(DeviceRequest.GPU), m.facts(), CUDA_NONE).refusal()
                .contains("(CUDA_VISIBLE_DEVICES unset)"));
    }

    @Test
    void gpuWithCudaAndDevicesRuns() throws IOException {
        FakeMachine m = driver();
        for (LoadedLibtorch l : new LoadedLibtorch[] {CUDA_TWO, CUDA_UNCOUNTED}) {
            DeviceChoice c = DeviceChoice.decide(DeviceRequest.GPU, m.plan(DeviceRequest.GPU), m.facts(), l);
            assertTrue(c.gpu());
            assertNull(c.refusal());
            assertNull(c.line());
        }
    }

    @Test
    void gpuWhenDjlLoadedACpuBuildAfterAll() throws IOException {
        FakeMachine m = driver();
        DeviceChoice c = DeviceChoice.decide(DeviceRequest.GPU, m.plan(DeviceRequest.GPU), m.facts(), CPU);
        assertEquals("--device gpu: NVIDIA driver 550.54.15 (" + m.root.resolve("proc/driver/nvidia/version")
                + ") found, but the libtorch in use is a CPU build (DJL loaded libtorch 2.7.1 (CPU build) at "
                + "/c/2.7.1-20250812-cpu-linux-x86_64); set PYTORCH_FLAVOR=cu128 and run 'host doctor --device gpu' "
                + "to see what DJL finds", c.refusal());
        FakeMachine none = new FakeMachine(dir.resolve("none")).withBundledJar();
        assertTrue(DeviceChoice.decide(DeviceRequest.GPU, none.plan(DeviceRequest.AUTO), none.facts(), CPU).refusal()
                .startsWith("--device gpu: no NVIDIA driver found ("));
    }

    @Test
    void autoSaysWhichItChoseAndWhy() throws IOException {
        FakeMachine m = driver();
        LibtorchPlan plan = m.plan(DeviceRequest.AUTO);
        DeviceChoice two = DeviceChoice.decide(DeviceRequest.AUTO, plan, m.facts(), CUDA_TWO);
        assertTrue(two.gpu());
        assertEquals("--device auto: gpu0, because libtorch 2.7.1 (CUDA build) at /c/2.7.1-cu128-linux-x86_64 is "
                + "loaded and sees 2 CUDA devices", two.line());
        assertTrue(DeviceChoice.decide(DeviceRequest.AUTO, plan, m.facts(), CUDA_UNCOUNTED).line()
                .endsWith("sees at least one CUDA device (DJL's own count is 0: JNA finds no libcudart.so)"));

        m.env.put("CUDA_VISIBLE_DEVICES", "-1");
        DeviceChoice hidden = DeviceChoice.decide(DeviceRequest.AUTO, plan, m.facts(), CUDA_NONE);
        assertFalse(hidden.gpu());
        assertEquals("--device auto: cpu, because libtorch 2.7.1 (CUDA build) at /c/2.7.1-cu128-linux-x86_64 sees no "
                + "CUDA device (CUDA_VISIBLE_DEVICES='-1')", hidden.line());

        FakeMachine none = new FakeMachine(dir.resolve("none")).withBundledJar();
        DeviceChoice cpu = DeviceChoice.decide(DeviceRequest.AUTO, none.plan(DeviceRequest.AUTO), none.facts(), CPU);
        assertFalse(cpu.gpu());
        assertEquals("--device auto: cpu, because no NVIDIA driver was found", cpu.line());
    }

    @Test
    void cpuIsCpuWithoutALine() throws IOException {
        FakeMachine m = driver();
        DeviceChoice c = DeviceChoice.decide(DeviceRequest.CPU, m.plan(DeviceRequest.CPU), m.facts(), CUDA_TWO);
        assertFalse(c.gpu());
        assertNull(c.line());
        assertNull(c.refusal());
    }
}
