package io.moeagent.host.device;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Everything the libtorch decision reads from the machine, gathered in one place so that {@link LibtorchPlan} is a
 * pure function of it. Tests build these over fake driver directories and fake libtorch layouts.
 *
 * @param settings         DJL's and CUDA's settings as DJL reads them (environment first, then system property)
 * @param offline          DJL's offline mode (env DJL_OFFLINE, else -Dai.djl.offline; the host defaults it to true)
 * @param driver           what the NVIDIA driver left on disk
 * @param torchVersion     the libtorch version this DJL build expects ("2.7.1", from pytorch-engine.properties)
 * @param djlVersion       "0.36.0"
 * @param engineCacheDir   DJL's engine cache: ENGINE_CACHE_DIR, else DJL_CACHE_DIR, else ~/.djl.ai
 * @param classpathNatives a natives jar that DJL will see on the class path (it wins over everything but
 *                         PYTORCH_LIBRARY_PATH), or null
 * @param bundledJar       the CPU natives jar in host.jar's lib/ (kept off the manifest's Class-Path), or null
 * @param override         the first PYTORCH_LIBRARY_PATH entry holding libtorch.so (as DJL picks it), or the first
 *                         entry when none does, or null when the variable is unset
 * @param djlCuda          DJL's cache directory for its CUDA build of torchVersion (it may not exist yet)
 */
public record HostFacts(Map<String, String> settings, boolean offline, NvidiaDriver driver, String torchVersion,
                        String djlVersion, Path engineCacheDir, ClasspathNatives classpathNatives, Path bundledJar,
                        LibtorchDir override, LibtorchDir djlCuda) {
    /** DJL 0.36.0 publishes one CUDA build of libtorch 2.7.1 (and pytorch-jni carries its JNI): CUDA 12.8. */
    public static final String DJL_CUDA_FLAVOUR = "cu128";
    /** The names DJL and CUDA read, in the order doctor prints them. */
    public static final List<String> SETTINGS = List.of("PYTORCH_LIBRARY_PATH", "PYTORCH_FLAVOR", "PYTORCH_VERSION",
            "DJL_CACHE_DIR", "ENGINE_CACHE_DIR", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH");

    /** A natives jar visible to DJL through the class path: its URL and the flavour its properties declare. */
    public record ClasspathNatives(String location, String flavour, String version) {
        public boolean cuda() {
            return flavour.startsWith("cu");
        }
    }

    public HostFacts {
        settings = Map.copyOf(settings);
    }

    public String setting(String name) {
        return settings.get(name);
    }

    /** "CUDA_VISIBLE_DEVICES=''" / "CUDA_VISIBLE_DEVICES unset" */
    public String shown(String name) {
        String v = settings.get(name);
        return v == null ? name + " unset" : name + "='" + v + "'";
    }

    /** The DJL cache folder of a build: {@code <cache>/pytorch/2.7.1-cu128-linux-x86_64}. */
    public Path djlCacheDir(String version, String flavour) {
        return engineCacheDir.resolve("pytorch").resolve(version + "-" + flavour + "-linux-x86_64");
    }

    /**
     * Reads the real machine. {@code root} is "/" (tests point it at a fake tree); {@code home} is where host.jar
     * lives (its lib/ holds the CPU natives jar), or null when the host runs from a class path without host.jar.
     */
    public static HostFacts gather(Path root, Map<String, String> env, UnaryOperator<String> property, Path home,
                                   ClassLoader classLoader) {
        Map<String, String> settings = new HashMap<>();
        for (String name : SETTINGS) {
            String value = env.containsKey(name) ? env.get(name) : property.apply(name);
            if (value != null) {
                settings.put(name, value);
            }
        }
        String offline = env.containsKey("DJL_OFFLINE") ? env.get("DJL_OFFLINE") : property.apply("ai.djl.offline");
        boolean isOffline = offline != null ? Boolean.parseBoolean(offline) : Boolean.parseBoolean(property.apply("offline"));
        Properties engine = properties(classLoader, "pytorch-engine.properties");
        String torch = engine.getProperty("pytorch_version", "2.7.1");
        String djl = engine.getProperty("djl_version", "0.36.0");
        Path cache = engineCache(settings, property);
        LibtorchDir override = null;
        String libraryPath = settings.get("PYTORCH_LIBRARY_PATH");
        if (libraryPath != null && !libraryPath.isBlank()) {
            for (String entry : libraryPath.split(":")) {
                if (entry.isBlank()) {
                    continue;
                }
                Path p = Path.of(entry);
                LibtorchDir d = LibtorchDir.inspect(p.getFileName() != null && p.getFileName().toString()
                        .equals("libtorch.so") ? p.getParent() : p, djl);
                if (override == null || (!override.hasLibtorch() && d.hasLibtorch())) {
                    override = d;
                }
            }
        }
        String flavour = settings.getOrDefault("PYTORCH_FLAVOR", "");
        String cudaFlavour = flavour.startsWith("cu") ? flavour : DJL_CUDA_FLAVOUR;
        LibtorchDir djlCuda = LibtorchDir.inspect(cache.resolve("pytorch").resolve(torch + "-" + cudaFlavour
                + "-linux-x86_64"), djl);
        return new HostFacts(settings, isOffline, NvidiaDriver.probe(root, settings.get("LD_LIBRARY_PATH")), torch, djl,
                cache, classpathNatives(classLoader), bundledJar(home), override, djlCuda);
    }

    private static Path engineCache(Map<String, String> settings, UnaryOperator<String> property) {
        String dir = settings.get("ENGINE_CACHE_DIR");
        if (dir == null || dir.isEmpty()) {
            dir = settings.get("DJL_CACHE_DIR");
        }
        if (dir == null || dir.isEmpty()) {
            Path home = Path.of(property.apply("user.home"));
            return (Files.isWritable(home) ? home : Path.of(property.apply("java.io.tmpdir"))).resolve(".djl.ai");
        }
        return Path.of(dir);
    }

    /** DJL finds natives jars by their {@code native/lib/pytorch.properties}, as here. */
    private static ClasspathNatives classpathNatives(ClassLoader classLoader) {
        URL url = classLoader.getResource("native/lib/pytorch.properties");
        if (url == null) {
            return null;
        }
        Properties p = new Properties();
        try (InputStream in = url.openStream()) {
            p.load(in);
        } catch (IOException e) {
            return new ClasspathNatives(location(url), "cpu", "unknown");
        }
        return new ClasspathNatives(location(url), p.getProperty("flavor", "cpu"), p.getProperty("version", "unknown"));
    }

    /** The jar (or class folder) a {@code native/lib/pytorch.properties} resource comes from, as a file path. */
    private static String location(URL url) {
        String s = url.toString();
        try {
            if (s.startsWith("jar:file:") && s.contains("!/")) {
                return Path.of(new java.net.URI(s.substring(4, s.indexOf("!/")))).toString();
            }
            if (s.startsWith("file:")) {
                return Path.of(url.toURI()).getParent().getParent().getParent().toString();
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through: the URL as it is
        }
        return s;
    }

    private static Path bundledJar(Path home) {
        if (home == null || !Files.isDirectory(home.resolve("lib"))) {
            return null;
        }
        try (Stream<Path> s = Files.list(home.resolve("lib"))) {
            return s.filter(p -> p.getFileName().toString().matches("pytorch-native-cpu-.*\\.jar")).sorted()
                    .findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    private static Properties properties(ClassLoader classLoader, String name) {
        Properties p = new Properties();
        try (InputStream in = classLoader.getResourceAsStream(name)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // defaults below
        }
        return p;
    }

    /** The folder holding host.jar when the host runs from it, else null (IDE, test class path). */
    public static Path hostJarHome(Class<?> anyHostClass) {
        try {
            URL location = anyHostClass.getProtectionDomain().getCodeSource().getLocation();
            Path p = Path.of(location.toURI());
            return Files.isRegularFile(p) && p.getFileName().toString().endsWith(".jar") ? p.getParent() : null;
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }
}
