package io.moeagent.host.device;

import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * Every line the host prints about where it runs and why, in one place. A refusal names which of three things is
 * true (no NVIDIA driver; a driver but a CPU libtorch, with the setting that fixes it; CUDA libtorch but no visible
 * device, with CUDA_VISIBLE_DEVICES) and what to do.
 */
public final class DeviceMessages {
    /** The README section that has the exact commands. */
    static final String SEE = "see README, section GPU";

    private DeviceMessages() {
    }

    // ---- why a libtorch is the one in use (doctor's "libtorch:" line and the reason in auto's line)

    static String localReason(LibtorchDir d) {
        return "PYTORCH_LIBRARY_PATH: " + d.describe();
    }

    static String classpathReason(HostFacts.ClasspathNatives n) {
        return "a " + n.flavour() + " natives jar on the class path (" + n.location() + "), which DJL prefers";
    }

    static String bundledReason(Path jar) {
        return "the bundled CPU build (" + jar + ")";
    }

    static String djlCudaCachedReason(LibtorchDir d) {
        return "DJL's CUDA build, already in DJL's cache: " + d.describe();
    }

    static String djlCudaDownloadReason(HostFacts f, String flavour) {
        return "DJL's CUDA build (libtorch " + f.torchVersion() + " " + flavour + "), which DJL downloads once "
                + "(a few GB) into " + f.djlCacheDir(f.torchVersion(), flavour);
    }

    // ---- the three refusals of --device gpu

    public static String noDriver(NvidiaDriver driver) {
        return "--device gpu: no NVIDIA driver found (" + searched(driver)
                + "); install NVIDIA's driver, or use --device cpu or auto";
    }

    /** A driver, but the libtorch in use (or the only one available) is a CPU build; {@code fix} is the setting. */
    public static String cpuLibtorch(NvidiaDriver driver, String why, String fix) {
        return "--device gpu: NVIDIA " + driver.describe() + " found, but the libtorch in use is a CPU build ("
                + why + "); " + fix;
    }

    public static String noVisibleDevice(String libtorch, HostFacts f) {
        return "--device gpu: CUDA libtorch loaded (" + libtorch + ") but no CUDA device is visible ("
                + f.shown("CUDA_VISIBLE_DEVICES") + "); check nvidia-smi and CUDA_VISIBLE_DEVICES, or use --device cpu";
    }

    /** "no /proc/driver/nvidia/version; no libcuda.so.1 in /usr/lib64, ..." */
    public static String searched(NvidiaDriver driver) {
        return "no " + driver.searched().get(0) + "; no libcuda.so.1 in " + driver.searched().stream().skip(1)
                .map(p -> String.valueOf(p.getParent())).collect(Collectors.joining(", "));
    }

    // ---- the why/fix pairs of cpuLibtorch

    static String whyClasspath(HostFacts.ClasspathNatives n) {
        return "pytorch-native-" + n.flavour() + " is on the class path: " + n.location();
    }

    static final String FIX_CLASSPATH = "start the host with 'java -jar host-engine/target/host.jar', which keeps the "
            + "CPU natives off the class path unless the CPU build is wanted, or drop that jar from -cp";

    static String whyFlavour(String flavour) {
        return "PYTORCH_FLAVOR=" + flavour + " asks DJL for its CPU build";
    }

    static final String FIX_FLAVOUR = "unset PYTORCH_FLAVOR (or set PYTORCH_FLAVOR=" + HostFacts.DJL_CUDA_FLAVOUR + ")";

    static String whyLocalCpu(LibtorchDir d) {
        return "PYTORCH_LIBRARY_PATH=" + d.dir() + " has no libtorch_cuda.so";
    }

    static final String FIX_LOCAL_CPU = "point PYTORCH_LIBRARY_PATH at the lib directory of a CUDA build, or unset it "
            + "to use DJL's CUDA build";

    static String whyNotCached(HostFacts f) {
        return "DJL's CUDA build, libtorch " + f.torchVersion() + " " + f.djlCuda().flavour() + ", is not in "
                + f.djlCuda().dir() + " and DJL's downloads are off";
    }

    static final String FIX_NOT_CACHED = "run once with DJL_OFFLINE=false to let DJL download it (a few GB, once), or set "
            + "PYTORCH_LIBRARY_PATH to a local CUDA libtorch; " + SEE;

    static String whyLoadedCpu(String libtorch) {
        return "DJL loaded " + libtorch;
    }

    static final String FIX_LOADED_CPU = "set PYTORCH_FLAVOR=" + HostFacts.DJL_CUDA_FLAVOUR
            + " and run 'host doctor --device gpu' to see what DJL finds";

    // ---- problems that stop any run before DJL loads

    static String overrideWithoutLibtorch(String value) {
        return "PYTORCH_LIBRARY_PATH='" + value + "' holds no libtorch.so; point it at the lib directory of a libtorch "
                + "(e.g. .../site-packages/torch/lib) or unset it";
    }

    static String noJni(HostFacts f, LibtorchDir d, String version, String flavour) {
        return "no DJL JNI library for " + d.describe() + ": DJL " + f.djlVersion() + " looks for "
                + d.dir().resolve(f.djlVersion() + "-libdjl_torch.so") + " or "
                + f.djlCacheDir(version, flavour).resolve(f.djlVersion() + "-libdjl_torch.so")
                + " and carries its own only for libtorch " + f.torchVersion() + " cpu/" + HostFacts.DJL_CUDA_FLAVOUR
                + "; build DJL's JNI against this libtorch and put it there (" + SEE + ")";
    }

    static String noBundledCpu() {
        return "the bundled CPU libtorch (lib/pytorch-native-cpu-*.jar next to host.jar) is missing; rebuild with "
                + "'mvn -B package -pl host-engine -am', or set PYTORCH_LIBRARY_PATH to a local libtorch";
    }

    static String notLinuxX86(String os, String arch) {
        return "--device gpu: DJL " + "ships CUDA libtorch for linux x86_64 only, this is " + os + " " + arch
                + "; set PYTORCH_LIBRARY_PATH to a local CUDA libtorch, or use --device cpu";
    }

    // ---- what --device auto chose, and why (one line on stderr)

    static String autoGpu(String libtorch, int devices) {
        return "--device auto: gpu0, because " + libtorch + " is loaded and sees " + devicesPhrase(devices);
    }

    public static String autoCpu(String why) {
        return "--device auto: cpu, because " + why;
    }

    static String autoNoDriver() {
        return "no NVIDIA driver was found";
    }

    static String autoDriverButCpu(NvidiaDriver driver, String why, String fix) {
        return "NVIDIA " + driver.describe() + " is there but the libtorch is a CPU build (" + why + "); to use the GPU: "
                + fix;
    }

    static String autoNoDevice(String libtorch, HostFacts f) {
        return libtorch + " sees no CUDA device (" + f.shown("CUDA_VISIBLE_DEVICES") + ")";
    }

    static String devicesPhrase(int devices) {
        return devices < 0 ? "at least one CUDA device (DJL's own count is 0: JNA finds no libcudart.so)"
                : devices + " CUDA device" + (devices == 1 ? "" : "s");
    }
}
