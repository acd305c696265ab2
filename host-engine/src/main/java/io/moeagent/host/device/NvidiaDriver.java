package io.moeagent.host.device;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Whether NVIDIA's driver is installed, read from the files it leaves: {@code /proc/driver/nvidia/version} (the
 * kernel module; {@code /proc/driver/nvidia/gpus/} lists one entry per GPU) or a {@code libcuda.so.1} (the user-space
 * driver; the only trace under WSL2 and in some containers). {@code root} is "/" except in tests, which lay out fake
 * driver directories.
 *
 * @param version    the driver version ("550.54.15"), or null when no file names it
 * @param evidence   the file that shows the driver is there, or null when none was found
 * @param listedGpus entries in /proc/driver/nvidia/gpus (the driver's view; CUDA_VISIBLE_DEVICES may hide some)
 * @param searched   every place looked at, for the message when nothing is found
 */
public record NvidiaDriver(String version, Path evidence, int listedGpus, List<Path> searched) {
    /** Where distributions, NVIDIA's container runtime and WSL2 put libcuda.so.1, relative to the root. */
    static final List<String> LIB_DIRS = List.of("usr/lib/x86_64-linux-gnu", "usr/lib64", "usr/lib",
            "usr/local/nvidia/lib64", "usr/lib/wsl/lib");
    private static final Pattern KERNEL_MODULE = Pattern.compile("Kernel Module\\s+(\\d+(?:\\.\\d+)+)");
    private static final Pattern LIBCUDA_VERSION = Pattern.compile("libcuda\\.so\\.(\\d+\\.\\d+(?:\\.\\d+)?)");

    public NvidiaDriver {
        searched = List.copyOf(searched);
    }

    public boolean present() {
        return evidence != null;
    }

    /** One phrase: "driver 550.54.15 (/proc/driver/nvidia/version)". */
    public String describe() {
        return "driver " + (version == null ? "of unknown version" : version) + " (" + evidence + ")";
    }

    /**
     * @param root            "/" on a real machine
     * @param ldLibraryPath   LD_LIBRARY_PATH's value (absolute directories, not under root), or null
     */
    public static NvidiaDriver probe(Path root, String ldLibraryPath) {
        List<Path> searched = new ArrayList<>();
        Path proc = root.resolve("proc/driver/nvidia/version");
        searched.add(proc);
        int gpus = countEntries(root.resolve("proc/driver/nvidia/gpus"));
        if (Files.isRegularFile(proc)) {
            String version = null;
            try {
                Matcher m = KERNEL_MODULE.matcher(Files.readString(proc, StandardCharsets.UTF_8));
                version = m.find() ? m.group(1) : null;
            } catch (IOException | RuntimeException e) {
                // present but unreadable: the driver is there, its version unknown
            }
            return new NvidiaDriver(version, proc, gpus, searched);
        }
        List<Path> dirs = new ArrayList<>();
        if (ldLibraryPath != null) {
            for (String entry : ldLibraryPath.split(":")) {
                if (!entry.isBlank()) {
                    dirs.add(Path.of(entry));
                }
            }
        }
        for (String dir : LIB_DIRS) {
            dirs.add(root.resolve(dir));
        }
        for (Path dir : dirs) {
            Path lib = dir.resolve("libcuda.so.1");
            searched.add(lib);
            if (Files.exists(lib)) {
                return new NvidiaDriver(libcudaVersion(lib), lib, gpus, searched);
            }
        }
        return new NvidiaDriver(null, null, gpus, searched);
    }

    /** libcuda.so.1 is a link to libcuda.so.550.54.15 on most installs: the version is in the target's name. */
    private static String libcudaVersion(Path lib) {
        try {
            Matcher m = LIBCUDA_VERSION.matcher(lib.toRealPath().getFileName().toString());
            return m.matches() ? m.group(1) : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static int countEntries(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return (int) s.count();
        } catch (IOException e) {
            return 0;
        }
    }
}
