package io.moeagent.agent.boot;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * Builds the agent's isolated class loader: the nested jars of moe-agent.jar (the agent's code, ByteBuddy,
 * Chronicle) extracted once to a versioned folder in a directory only this user can write ({@link PrivateDir}:
 * created 0700, owner and mode checked at every start), each jar checked against the size and CRC-32 that
 * moe-agent.jar's own directory records for it before it is used, and loaded by a URLClassLoader whose parent is the platform
 * loader, so nothing of it is visible to, or clashes with, the host. The bridge jar goes on the bootstrap class
 * path, and java.base opens to this loader only the packages Chronicle reaches into, so the host needs no flags.
 * Extracting a new build prunes other builds' folders unused for 7 days; on Java 24+ the JVM's warnings about the
 * agent's libraries (Unsafe, native access) are kept quiet through the core's JvmWarnings.
 */
final class CoreLoader {
    private static final String LIB = "moe-agent-lib/";
    private static final String BRIDGE = "moe-agent-boot/moe-agent-bridge.jar";
    private static final String BRIDGE_CLASS = "io.moeagent.agent.bridge.RouteBridge";

    private static final String JVM_WARNINGS = "io.moeagent.agent.core.JvmWarnings";

    /** What Chronicle reaches into, plus jdk.internal.module, which JvmWarnings reads the native-access mode from. */
    private static final String[] OPENS = {"java.lang", "java.lang.reflect", "java.nio", "sun.nio.ch",
        "jdk.internal.misc", "jdk.internal.ref", "jdk.internal.util", "java.io", "java.util", "jdk.internal.module"};

    /** Extraction folders of other agent builds unused for this long are deleted when a new build is extracted. */
    static final Duration STALE_AFTER = Duration.ofDays(7);
    /** {@code <size>-<mtime>} in hex: the only sibling names pruning ever touches. */
    private static final Pattern BUILD_DIR = Pattern.compile("[0-9a-f]+-[0-9a-f]+");

    private CoreLoader() {
    }

    static ClassLoader create(Instrumentation inst) throws IOException {
        Path agentJar = ownJar();
        Path dir = extractionDir(agentJar, PrivateDir.forUser(Path.of(System.getProperty("java.io.tmpdir"))));
        List<URL> urls = new ArrayList<>();
        Path bridge = null;
        boolean extracted = false;
        try (JarFile jar = new JarFile(agentJar.toFile())) {
            Enumeration<JarEntry> entries = jar.entries();
            while (entries.hasMoreElements()) {
                JarEntry e = entries.nextElement();
                String name = e.getName();
                Path target = null;
                if (name.startsWith(LIB) && name.endsWith(".jar")) {
                    target = dir.resolve(name.substring(LIB.length()));
                } else if (name.equals(BRIDGE)) {
                    target = dir.resolve("moe-agent-bridge.jar");
                }
                if (target == null) {
                    continue;
                }
                Path file = target;
                if (!upToDate(e, target)) {
                    file = extract(jar, e, target);
                    extracted = true;
                }
                if (name.equals(BRIDGE)) {
                    bridge = file;
                } else {
                    urls.add(file.toUri().toURL());
                }
            }
        }
        if (bridge == null || urls.isEmpty()) {
            throw new IOException(agentJar + " lacks its nested jars; rebuild moe-agent.jar");
        }
        if (extracted) {
            pruneStale(dir.getParent(), dir, Instant.now());
        }
        URLClassLoader loader = new URLClassLoader("moe-agent", urls.toArray(new URL[0]),
                ClassLoader.getPlatformClassLoader());
        openJavaBase(inst, loader.getUnnamedModule());
        quietJvmWarnings(loader);
        if (!bridgeVisible() && !inject(loader, bridge)) {
            inst.appendToBootstrapClassLoaderSearch(new JarFile(bridge.toFile()));
        }
        return loader;
    }

    /** Defines the bridge classes in the bootstrap loader through the agent's injector; false if it cannot. */
    @SuppressWarnings("unchecked")
    private static boolean inject(ClassLoader loader, Path bridgeJar) {
        try (JarFile jar = new JarFile(bridgeJar.toFile())) {
            Map<String, byte[]> classes = new HashMap<>();
            Enumeration<JarEntry> entries = jar.entries();
            while (entries.hasMoreElements()) {
                JarEntry e = entries.nextElement();
                if (e.getName().endsWith(".class")) {
                    try (InputStream in = jar.getInputStream(e)) {
                        String name = e.getName().substring(0, e.getName().length() - ".class".length());
                        classes.put(name.replace('/', '.'), in.readAllBytes());
                    }
                }
            }
            // typed through a JDK interface: the bridge, and its AgentControl, is not visible yet
            Predicate<Map<String, byte[]>> injector = (Predicate<Map<String, byte[]>>) Class.forName(
                    "io.moeagent.agent.core.BridgeInjector", true, loader).getDeclaredConstructor().newInstance();
            return injector.test(classes) && bridgeVisible();
        } catch (Exception | LinkageError e) {
            return false;
        }
    }

    /**
     * Before any ByteBuddy or Chronicle code runs: keeps Java 24+'s Unsafe and native-access warnings, which the
     * agent's libraries would trigger, out of the host's stderr (see JvmWarnings for what it does and its
     * trade-off). A no-op before Java 24. If it cannot, one line, and the agent goes on.
     */
    @SuppressWarnings("unchecked")
    private static void quietJvmWarnings(ClassLoader loader) {
        try {
            String why = ((Supplier<String>) Class.forName(JVM_WARNINGS, true, loader).getDeclaredConstructor()
                    .newInstance()).get();
            if (why != null) {
                System.err.println("moe-agent: cannot keep the JVM's warnings about the agent's libraries quiet ("
                        + why + ")");
            }
        } catch (Throwable t) {
            System.err.println("moe-agent: cannot keep the JVM's warnings about the agent's libraries quiet ("
                    + t.getClass().getSimpleName() + ")");
        }
    }

    private static boolean bridgeVisible() {
        try {
            Class.forName(BRIDGE_CLASS, false, null);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static void openJavaBase(Instrumentation inst, Module to) {
        Module base = Object.class.getModule();
        Map<String, Set<Module>> packages = new HashMap<>();
        for (String p : OPENS) {
            if (base.getPackages().contains(p)) {
                packages.put(p, Set.of(to));
            }
        }
        inst.redefineModule(base, Set.of(), packages, packages, Set.of(), Map.of());
    }

    static Path ownJar() throws IOException {
        try {
            return Path.of(AgentBoot.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception e) {
            throw new IOException("cannot locate moe-agent.jar: " + e.getMessage(), e);
        }
    }

    /**
     * One folder per agent build (size and time stamp of the jar) inside the user's private directory, shared by
     * every JVM of this user running that build.
     */
    static Path extractionDir(Path agentJar, Path privateDir) throws IOException {
        String key = Long.toHexString(Files.size(agentJar)) + "-"
                + Long.toHexString(Files.getLastModifiedTime(agentJar).toMillis());
        Path dir = PrivateDir.child(privateDir, key);
        try {
            // "in use" for pruning: every JVM that starts this build refreshes the folder's time stamp
            Files.setLastModifiedTime(dir, FileTime.from(Instant.now()));
        } catch (IOException | RuntimeException e) {
            // another user's folder, or a read-only one: pruning then judges it by its older time stamp
        }
        return dir;
    }

    /**
     * Best effort, never throws: deletes the sibling extraction folders of other agent builds (named like
     * {@code <size>-<mtime>} in hex) whose time stamp is older than {@link #STALE_AFTER}. A folder's time stamp is
     * refreshed by every JVM that starts with its build, so only builds no JVM started for 7 days go. Returns how
     * many folders were deleted.
     */
    static int pruneStale(Path parent, Path current, Instant now) {
        int deleted = 0;
        try (DirectoryStream<Path> siblings = Files.newDirectoryStream(parent)) {
            for (Path sibling : siblings) {
                try {
                    if (sibling.getFileName().equals(current.getFileName())
                            || !BUILD_DIR.matcher(sibling.getFileName().toString()).matches()
                            || !Files.isDirectory(sibling, LinkOption.NOFOLLOW_LINKS)) {
                        continue;
                    }
                    Instant modified = Files.getLastModifiedTime(sibling, LinkOption.NOFOLLOW_LINKS).toInstant();
                    if (modified.plus(STALE_AFTER).isBefore(now)) {
                        deleteTree(sibling);
                        deleted++;
                    }
                } catch (IOException | RuntimeException e) {
                    // in use by another user, already gone, ...: leave it for the next time
                }
            }
        } catch (IOException | RuntimeException e) {
            // nothing to prune
        }
        return deleted;
    }

    private static void deleteTree(Path root) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * Whether {@code target} is a regular file (not a link) holding exactly the entry's bytes: same size and the
     * CRC-32 that the agent jar's central directory records for the entry. CRC-32 is no cryptographic hash; it
     * does not need to be one here, because only this user (or root) can write the private directory, and either
     * could as well replace moe-agent.jar itself. It catches stale, cut or otherwise different files.
     */
    static boolean upToDate(JarEntry e, Path target) {
        try {
            if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) || Files.size(target) != e.getSize()
                    || e.getCrc() < 0) {
                return false;
            }
            CRC32 crc = new CRC32();
            byte[] buf = new byte[64 << 10];
            try (InputStream in = Files.newInputStream(target, LinkOption.NOFOLLOW_LINKS)) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    crc.update(buf, 0, n);
                }
            }
            return crc.getValue() == e.getCrc();
        } catch (IOException | RuntimeException ex) {
            return false;
        }
    }

    private static Path extract(JarFile jar, JarEntry e, Path target) throws IOException {
        // write beside, then rename: JVMs starting at the same time never see a half-written jar
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
        try (InputStream in = jar.getInputStream(e)) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        if (PrivateDir.temporary) {
            target.toFile().deleteOnExit();
        }
        if (!upToDate(e, tmp)) {
            Files.deleteIfExists(tmp);
            throw new IOException("extracting " + e.getName() + " from moe-agent.jar gave different bytes");
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException ex) {
            Files.deleteIfExists(tmp);
            if (!upToDate(e, target)) {
                throw ex;
            }
        }
        return target;
    }

}
