package io.moeagent.host.device;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which libtorch the host has DJL load, decided before DJL loads anything, from {@link HostFacts} alone.
 *
 * <p>DJL 0.36 ({@code ai.djl.pytorch.jni.LibUtils}) takes, in this order: the directory in PYTORCH_LIBRARY_PATH; a
 * natives jar on the (context) class path, which wins over any download and ignores PYTORCH_FLAVOR; a build in its
 * cache or downloaded from DJL's server, whose flavour is PYTORCH_FLAVOR or else guessed from a {@code libcudart.so}
 * that JNA can find (a machine with only the driver gets the CPU build). So host.jar keeps the CPU natives jar off
 * its manifest Class-Path and this plan either hands that jar to DJL (CPU) or sets PYTORCH_FLAVOR to DJL's CUDA
 * build and lets DJL take it from its cache or download it (CUDA).
 *
 * @param source     where libtorch comes from
 * @param cuda       whether the libtorch to be loaded is a CUDA build
 * @param reason     one phrase: which libtorch and why
 * @param properties system properties to set before DJL loads (only those the user has not set)
 * @param addJar     the CPU natives jar to show DJL through the context class loader, or null
 * @param cpuBecause for {@code --device auto} on a CPU plan: why not the GPU (null otherwise)
 * @param refusal    non-null when the request cannot be met: the one line to print; nothing else applies then
 */
public record LibtorchPlan(Source source, boolean cuda, String reason, Map<String, String> properties, Path addJar,
                           String cpuBecause, String refusal) {
    public enum Source { PYTORCH_LIBRARY_PATH, CLASS_PATH, BUNDLED_CPU, DJL_CUDA_CACHED, DJL_CUDA_DOWNLOAD, DJL_DEFAULT, NONE }

    public LibtorchPlan {
        properties = Map.copyOf(properties);
    }

    public boolean refused() {
        return refusal != null;
    }

    static LibtorchPlan refuse(String line) {
        return new LibtorchPlan(Source.NONE, false, null, Map.of(), null, null, line);
    }

    public static LibtorchPlan decide(DeviceRequest request, HostFacts f, String osName, String osArch) {
        NvidiaDriver driver = f.driver();
        boolean gpu = request == DeviceRequest.GPU;
        if (f.override() != null) {
            return local(request, f);
        }
        HostFacts.ClasspathNatives natives = f.classpathNatives();
        if (natives != null) {
            if (gpu && !driver.present()) {
                return refuse(DeviceMessages.noDriver(driver));
            }
            String why = DeviceMessages.whyClasspath(natives);
            if (gpu && !natives.cuda()) {
                return refuse(DeviceMessages.cpuLibtorch(driver, why, DeviceMessages.FIX_CLASSPATH));
            }
            return new LibtorchPlan(Source.CLASS_PATH, natives.cuda(), DeviceMessages.classpathReason(natives), Map.of(),
                    null, natives.cuda() ? null : cpuBecause(driver, why, DeviceMessages.FIX_CLASSPATH), null);
        }
        boolean linuxX86 = osName.startsWith("Linux") && (osArch.equals("amd64") || osArch.equals("x86_64"));
        String flavourSetting = f.setting("PYTORCH_FLAVOR");
        boolean cpuFlavour = flavourSetting != null && flavourSetting.startsWith("cpu");
        boolean cached = f.djlCuda().hasLibtorch();
        if (gpu) {
            if (!driver.present()) {
                return refuse(DeviceMessages.noDriver(driver));
            }
            if (!linuxX86) {
                return refuse(DeviceMessages.notLinuxX86(osName, osArch));
            }
            if (cpuFlavour) {
                return refuse(DeviceMessages.cpuLibtorch(driver, DeviceMessages.whyFlavour(flavourSetting),
                        DeviceMessages.FIX_FLAVOUR));
            }
            if (!cached && f.offline()) {
                return refuse(DeviceMessages.cpuLibtorch(driver, DeviceMessages.whyNotCached(f),
                        DeviceMessages.FIX_NOT_CACHED));
            }
        }
        if ((gpu || request == DeviceRequest.AUTO) && driver.present() && linuxX86 && !cpuFlavour
                && (cached || !f.offline())) {
            String flavour = f.djlCuda().flavour();
            Map<String, String> props = flavourSetting == null ? Map.of("PYTORCH_FLAVOR", flavour) : Map.of();
            return cached
                    ? new LibtorchPlan(Source.DJL_CUDA_CACHED, true, DeviceMessages.djlCudaCachedReason(f.djlCuda()),
                            props, null, null, null)
                    : new LibtorchPlan(Source.DJL_CUDA_DOWNLOAD, true, DeviceMessages.djlCudaDownloadReason(f, flavour),
                            props, null, null, null);
        }
        String because;
        if (!driver.present()) {
            because = DeviceMessages.autoNoDriver();
        } else if (cpuFlavour) {
            because = DeviceMessages.autoDriverButCpu(driver, DeviceMessages.whyFlavour(flavourSetting),
                    DeviceMessages.FIX_FLAVOUR);
        } else if (!linuxX86) {
            because = DeviceMessages.notLinuxX86(osName, osArch);
        } else {
            because = DeviceMessages.autoDriverButCpu(driver, DeviceMessages.whyNotCached(f),
                    DeviceMessages.FIX_NOT_CACHED);
        }
        if (f.bundledJar() == null) {
            if (f.offline()) {
                return refuse(DeviceMessages.noBundledCpu());
            }
            return new LibtorchPlan(Source.DJL_DEFAULT, false, "DJL's own choice (no bundled CPU build here; DJL "
                    + "downloads a build for this machine)", Map.of(), null, because, null);
        }
        return new LibtorchPlan(Source.BUNDLED_CPU, false, DeviceMessages.bundledReason(f.bundledJar()), Map.of(),
                f.bundledJar(), because, null);
    }

    /** PYTORCH_LIBRARY_PATH is set: DJL loads that directory, whatever the request. */
    private static LibtorchPlan local(DeviceRequest request, HostFacts f) {
        LibtorchDir d = f.override();
        NvidiaDriver driver = f.driver();
        if (!d.hasLibtorch()) {
            return refuse(DeviceMessages.overrideWithoutLibtorch(f.setting("PYTORCH_LIBRARY_PATH")));
        }
        String versionSetting = f.setting("PYTORCH_VERSION");
        String flavourSetting = f.setting("PYTORCH_FLAVOR");
        String version = versionSetting != null ? versionSetting : d.version() != null ? d.version() : f.torchVersion();
        String flavour = flavourSetting != null ? flavourSetting
                : d.flavour().equals("cuda") ? HostFacts.DJL_CUDA_FLAVOUR : d.flavour();
        Map<String, String> props = new LinkedHashMap<>();
        if (versionSetting == null && d.version() != null) {
            props.put("PYTORCH_VERSION", d.version());
        }
        if (flavourSetting == null) {
            props.put("PYTORCH_FLAVOR", flavour); // else DJL guesses "cu<cudart>-precxx11", which no JNI matches
        }
        boolean jni = d.hasJni() || Files.exists(f.djlCacheDir(version, flavour).resolve(f.djlVersion() + "-libdjl_torch.so"))
                || (version.equals(f.torchVersion()) && (flavour.equals("cpu") || flavour.equals(HostFacts.DJL_CUDA_FLAVOUR)));
        if (!jni && f.offline()) {
            return refuse(DeviceMessages.noJni(f, d, version, flavour));
        }
        if (request == DeviceRequest.GPU && !driver.present()) {
            return refuse(DeviceMessages.noDriver(driver));
        }
        String why = DeviceMessages.whyLocalCpu(d);
        if (request == DeviceRequest.GPU && !d.cuda()) {
            return refuse(DeviceMessages.cpuLibtorch(driver, why, DeviceMessages.FIX_LOCAL_CPU));
        }
        String because = !driver.present() ? DeviceMessages.autoNoDriver()
                : d.cuda() ? null : DeviceMessages.autoDriverButCpu(driver, why, DeviceMessages.FIX_LOCAL_CPU);
        return new LibtorchPlan(Source.PYTORCH_LIBRARY_PATH, d.cuda(), DeviceMessages.localReason(d), props, null,
                because, null);
    }

    private static String cpuBecause(NvidiaDriver driver, String why, String fix) {
        return driver.present() ? DeviceMessages.autoDriverButCpu(driver, why, fix) : DeviceMessages.autoNoDriver();
    }
}
