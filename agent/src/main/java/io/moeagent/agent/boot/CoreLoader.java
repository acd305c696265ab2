package io.moeagent.agent.boot;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Builds the agent's isolated class loader: the nested jars of moe-agent.jar (the agent's code, ByteBuddy,
 * Chronicle) extracted once to a versioned temp folder and loaded by a URLClassLoader whose parent is the platform
 * loader, so nothing of it is visible to, or clashes with, the host. The bridge jar goes on the bootstrap class
 * path, and java.base opens to this loader only the packages Chronicle reaches into, so the host needs no flags.
 */
final class CoreLoader {
    private static final String LIB = "moe-agent-lib/";
    private static final String BRIDGE = "moe-agent-boot/moe-agent-bridge.jar";
    private static final String BRIDGE_CLASS = "io.moeagent.agent.bridge.RouteBridge";

    private static final String[] OPENS = {"java.lang", "java.lang.reflect", "java.nio", "sun.nio.ch",
        "jdk.internal.misc", "jdk.internal.ref", "jdk.internal.util", "java.io", "java.util"};

    private CoreLoader() {
    }

    static ClassLoader create(Instrumentation inst) throws IOException {
        Path agentJar = ownJar();
        Path dir = extractionDir(agentJar);
        List<URL> urls = new ArrayList<>();
        Path bridge = null;
        try (JarFile jar = new JarFile(agentJar.toFile())) {
            Enumeration<JarEntry> entries = jar.entries();
            while (entries.hasMoreElements()) {
                JarEntry e = entries.nextElement();
                String name = e.getName();
                if (name.startsWith(LIB) && name.endsWith(".jar")) {
                    urls.add(extract(jar, e, dir.resolve(name.substring(LIB.length()))).toUri().toURL());
                } else if (name.equals(BRIDGE)) {
                    bridge = extract(jar, e, dir.resolve("moe-agent-bridge.jar"));
                }
            }
        }
        if (bridge == null || urls.isEmpty()) {
            throw new IOException(agentJar + " lacks its nested jars; rebuild moe-agent.jar");
        }
        URLClassLoader loader = new URLClassLoader("moe-agent", urls.toArray(new URL[0]),
                ClassLoader.getPlatformClassLoader());
        openJavaBase(inst, loader.getUnnamedModule());
        if (!bridgeVisible() && !inject(loader, bridge)) {
            inst.appendToBootstrapClassLoaderSearch(new JarFile(bridge.toFile()));
        }
        return loader;
    }

    /** Defines the bridge classes in the bootstrap loader through the agent's injector; false if it cannot. */
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
            Object ok = Class.forName("io.moeagent.agent.core.BridgeInjector", true, loader)
                    .getMethod("inject", Map.class).invoke(null, classes);
            return Boolean.TRUE.equals(ok) && bridgeVisible();
        } catch (Exception | LinkageError e) {
            return false;
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

    /** One folder per agent build (size and time stamp of the jar), shared by every JVM using that build. */
    private static Path extractionDir(Path agentJar) throws IOException {
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.-]", "_");
        String key = Long.toHexString(Files.size(agentJar)) + "-"
                + Long.toHexString(Files.getLastModifiedTime(agentJar).toMillis());
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "moe-agent-" + user, key);
        Files.createDirectories(dir);
        return dir;
    }

    private static Path extract(JarFile jar, JarEntry e, Path target) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == e.getSize()) {
            return target;
        }
        // write beside, then rename: JVMs starting at the same time never see a half-written jar
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
        try (InputStream in = jar.getInputStream(e)) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException ex) {
            Files.deleteIfExists(tmp);
            if (!Files.isRegularFile(target)) {
                throw ex;
            }
        }
        return target;
    }

}
