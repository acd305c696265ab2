package io.moeagent.host.device;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A machine laid out in a temp folder: driver files under a fake root, libtorch layouts as DJL's cache and pip leave
 * them, host.jar's lib/ with or without the CPU natives jar, and the environment.
 */
final class FakeMachine {
    static final String PROC_VERSION = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 "
            + "22:23:56 UTC 2024\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n";

    final Path root;
    final Path home;
    final Path cache;
    final Map<String, String> env = new HashMap<>();
    ClassLoader classLoader = new URLClassLoader(new URL[0], null); // sees no natives jar

    FakeMachine(Path dir) throws IOException {
        root = Files.createDirectories(dir.resolve("root"));
        home = Files.createDirectories(dir.resolve("home"));
        cache = Files.createDirectories(dir.resolve("djl-cache"));
        env.put("DJL_CACHE_DIR", cache.toString());
        env.put("DJL_OFFLINE", "true");
    }

    FakeMachine withProcDriver(int gpus) throws IOException {
        Path proc = Files.createDirectories(root.resolve("proc/driver/nvidia"));
        Files.writeString(proc.resolve("version"), PROC_VERSION);
        for (int i = 0; i < gpus; i++) {
            Files.createDirectories(proc.resolve("gpus/0000:0" + i + ":00.0"));
        }
        return this;
    }

    /** The user-space driver only, as WSL2 and some containers have it: libcuda.so.1 -> libcuda.so.535.104.05. */
    FakeMachine withLibcudaOnly(String dir) throws IOException {
        Path lib = Files.createDirectories(root.resolve(dir));
        Files.writeString(lib.resolve("libcuda.so.535.104.05"), "");
        Files.createSymbolicLink(lib.resolve("libcuda.so.1"), Path.of("libcuda.so.535.104.05"));
        return this;
    }

    FakeMachine withBundledJar() throws IOException {
        Files.createDirectories(home.resolve("lib"));
        Files.writeString(home.resolve("lib/pytorch-native-cpu-2.7.1-linux-x86_64.jar"), "");
        Files.writeString(home.resolve("lib/pytorch-jni-2.7.1-0.36.0.jar"), "");
        return this;
    }

    /** A natives jar visible on the class path, as when the host runs from an IDE or a -cp with every jar. */
    FakeMachine withClasspathNatives(String flavour) throws IOException {
        Path dir = Files.createDirectories(home.resolve("cp/native/lib"));
        Files.writeString(dir.resolve("pytorch.properties"), "version=2.7.1-20250812\nflavor=" + flavour
                + "\nclassifier=linux-x86_64\nlibraries=libc10.so,libtorch.so,libtorch_cpu.so\n");
        classLoader = new URLClassLoader(new URL[] {home.resolve("cp").toUri().toURL()}, null);
        return this;
    }

    /** DJL's cache folder of a build, as DJL leaves it after a download. */
    Path djlCacheBuild(String name, boolean cuda) throws IOException {
        Path dir = Files.createDirectories(cache.resolve("pytorch").resolve(name));
        for (String lib : cuda ? new String[] {"libc10.so", "libtorch.so", "libtorch_cpu.so", "libc10_cuda.so",
                "libtorch_cuda.so"} : new String[] {"libc10.so", "libtorch.so", "libtorch_cpu.so"}) {
            Files.writeString(dir.resolve(lib), "");
        }
        return dir;
    }

    /** A pip install's torch/lib with torch/version.py beside it. */
    Path pipTorch(String version, String cuda) throws IOException {
        Path torch = Files.createDirectories(home.resolve("site-packages-" + version + "/torch"));
        Path lib = Files.createDirectories(torch.resolve("lib"));
        Files.writeString(torch.resolve("version.py"), "from typing import Optional\n\n__all__ = ['__version__']\n"
                + "__version__ = '" + version + (cuda == null ? "+cpu" : "+cu" + cuda.replace(".", "")) + "'\n"
                + "debug = False\ncuda: Optional[str] = " + (cuda == null ? "None" : "'" + cuda + "'") + "\n");
        Files.writeString(lib.resolve("libtorch.so"), "");
        Files.writeString(lib.resolve("libtorch_cpu.so"), "");
        if (cuda != null) {
            Files.writeString(lib.resolve("libtorch_cuda.so"), "");
        }
        return lib;
    }

    HostFacts facts() {
        return HostFacts.gather(root, env, name -> name.equals("user.home") ? home.toString()
                : name.equals("java.io.tmpdir") ? home.toString() : null, home, classLoader);
    }

    LibtorchPlan plan(DeviceRequest request) {
        return LibtorchPlan.decide(request, facts(), "Linux", "amd64");
    }
}
