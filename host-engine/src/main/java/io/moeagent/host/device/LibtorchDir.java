package io.moeagent.host.device;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a libtorch directory on disk holds, read without loading it: a CUDA build has {@code libtorch_cuda.so} (or
 * {@code libc10_cuda.so}) beside {@code libtorch.so}; the version and flavour come from DJL's cache naming
 * ({@code 2.7.1-cu128-linux-x86_64}), a libtorch zip's {@code libtorch/build-version}, or a pip install's
 * {@code torch/version.py} next to {@code torch/lib}.
 *
 * @param version  "2.7.1", or null when nothing on disk says
 * @param flavour  DJL's flavour name: "cpu", "cu128", ...; "cuda" when it is a CUDA build of unknown CUDA version
 * @param hasJni   DJL's JNI library already sits in the directory (DJL looks there first)
 */
public record LibtorchDir(Path dir, boolean hasLibtorch, boolean cuda, String version, String flavour, boolean hasJni) {
    private static final Pattern DJL_CACHE_NAME =
            Pattern.compile("(\\d+\\.\\d+\\.\\d+)(?:-\\d+)?-(cpu|cu\\d{3})(?:-precxx11)?-[a-z]+-[a-z0-9_]+");
    private static final Pattern ZIP_VERSION = Pattern.compile("(\\d+\\.\\d+\\.\\d+)(?:\\+(cpu|cu\\d{3}))?");
    private static final Pattern PIP_VERSION = Pattern.compile("(?m)^__version__\\s*=\\s*'(\\d+\\.\\d+\\.\\d+)[^']*'");
    private static final Pattern PIP_CUDA = Pattern.compile("(?m)^cuda\\s*(?::[^=]*)?=\\s*'(\\d+)\\.(\\d)[^']*'");

    public static LibtorchDir inspect(Path dir, String djlVersion) {
        boolean libtorch = Files.isRegularFile(dir.resolve("libtorch.so"));
        boolean cuda = Files.exists(dir.resolve("libtorch_cuda.so")) || Files.exists(dir.resolve("libc10_cuda.so"));
        boolean jni = Files.exists(dir.resolve(djlVersion + "-libdjl_torch.so")) || Files.exists(dir.resolve("libdjl_torch.so"));
        String version = null;
        String flavour = null;
        Path name = dir.getFileName();
        Matcher m = name == null ? null : DJL_CACHE_NAME.matcher(name.toString());
        if (m != null && m.matches()) {
            version = m.group(1);
            flavour = m.group(2);
        } else if (dir.getParent() != null && Files.isRegularFile(dir.getParent().resolve("build-version"))) {
            try { // a libtorch zip from pytorch.org: libtorch/build-version holds "2.7.1+cu128"
                Matcher b = ZIP_VERSION.matcher(Files.readString(dir.getParent().resolve("build-version")).strip());
                if (b.matches()) {
                    version = b.group(1);
                    flavour = b.group(2);
                }
            } catch (IOException e) {
                // unknown version: say so rather than guess
            }
        } else if (dir.getParent() != null && Files.isRegularFile(dir.getParent().resolve("version.py"))) {
            try {
                String py = Files.readString(dir.getParent().resolve("version.py"), StandardCharsets.UTF_8);
                Matcher v = PIP_VERSION.matcher(py);
                version = v.find() ? v.group(1) : null;
                Matcher c = PIP_CUDA.matcher(py);
                flavour = c.find() ? "cu" + c.group(1) + c.group(2) : null;
            } catch (IOException e) {
                // unknown version: say so rather than guess
            }
        }
        if (flavour == null || (libtorch && flavour.startsWith("cu") != cuda)) {
            flavour = cuda ? "cuda" : "cpu"; // the files decide the flavour; a name that disagrees is ignored
        }
        return new LibtorchDir(dir, libtorch, cuda, version, flavour, jni);
    }

    /** "libtorch 2.7.1 cu128 at DIR" */
    public String describe() {
        return "libtorch " + (version == null ? "(version unknown)" : version) + " " + flavour + " at " + dir;
    }
}
