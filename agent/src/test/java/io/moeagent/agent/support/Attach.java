package io.moeagent.agent.support;

import com.sun.tools.attach.VirtualMachine;
import io.moeagent.agent.fixture.BytesProbe;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.util.TraceClassVisitor;

/** The attach CLI of the real jar, and the independent {@link BytesProbe} helper agent. */
public final class Attach {
    private Attach() {
    }

    public static Forked.Result cli(Path work, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Forked.JAVA, "-jar", Forked.AGENT_JAR.toString()));
        cmd.addAll(List.of(args));
        return Forked.run(cmd, Map.of(), work, 120);
    }

    /** The bytes the JVM {@code pid} currently runs for {@code className}, captured by the probe agent. */
    public static byte[] currentBytes(long pid, String className, Path work) throws Exception {
        Path jar = probeJar(work);
        Path out = Files.createTempFile(work, "class", ".bytes");
        Files.delete(out);
        VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
        try {
            vm.loadAgent(jar.toString(), className + "|" + out);
        } finally {
            vm.detach();
        }
        return Files.readAllBytes(out);
    }

    /**
     * What a class file means to the JVM, independent of its constant-pool layout: every field, method, instruction
     * (with its operands written out symbolically), try/catch block, frame, line number and attribute, as ASM's
     * Textifier prints them. Compare this, not the raw bytes, to tell whether a retransformed class runs the original
     * bytecode again.
     *
     * <p>Why not the raw bytes: the probe sees what JVMTI hands a retransformation-capable transformer, which is
     * either the class bytes cached at the first retransformation that changed the class, or, when the JVM has no
     * such cache, bytes <em>reconstituted</em> from the running class. RedefineClasses merges the old constant pool
     * into the new one (old entries keep their indices, see VM_RedefineClasses::merge_constant_pools), so after
     * weave + reset the running class carries the woven version's now unused entries; its reconstitution is longer
     * (1806 instead of 1655 bytes for FixtureRouter) although every method is the original again. Java 17 keeps the
     * cache across the reset and so shows the probe the original bytes; Java 25 drops it when a retransformation
     * changed nothing (seen with a JDK-only agent too), so the probe sees the reconstitution.
     */
    public static String disassemble(byte[] classFile) {
        StringWriter text = new StringWriter();
        new ClassReader(classFile).accept(new TraceClassVisitor(new PrintWriter(text)), 0);
        return text.toString();
    }

    private static Path probeJar(Path work) throws IOException {
        Path jar = work.resolve("bytes-probe.jar");
        if (Files.exists(jar)) {
            return jar;
        }
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Agent-Class", BytesProbe.class.getName());
        m.getMainAttributes().putValue("Can-Retransform-Classes", "true");
        String entry = BytesProbe.class.getName().replace('.', '/') + ".class";
        try (OutputStream fo = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(fo, m);
             InputStream in = BytesProbe.class.getClassLoader().getResourceAsStream(entry)) {
            out.putNextEntry(new JarEntry(entry));
            in.transferTo(out);
            out.closeEntry();
            String inner = BytesProbe.class.getName().replace('.', '/') + "$1.class";
            try (InputStream in2 = BytesProbe.class.getClassLoader().getResourceAsStream(inner)) {
                out.putNextEntry(new JarEntry(inner));
                in2.transferTo(out);
                out.closeEntry();
            }
        }
        return jar;
    }
}
