package io.moeagent.host.device;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The one impure step: reads the machine into {@link HostFacts}, applies the {@link LibtorchPlan} (system properties
 * DJL reads, and the CPU natives jar shown to DJL through the context class loader), loads DJL's PyTorch engine, and
 * reports what got loaded. DJL loads libtorch once per JVM: the first plan applied is the one in force.
 */
public final class LibtorchBootstrap {
    /** Tests of the packaged jar point this system property at a fake tree of driver files. */
    public static final String ROOT_PROPERTY = "moeagent.system.root";

    private LibtorchBootstrap() {
    }

    /** What {@link #select} found; {@code loaded} and {@code choice} are null when the plan refused or loading failed. */
    public record Selection(HostFacts facts, LibtorchPlan plan, LoadedLibtorch loaded, DeviceChoice choice,
                            String problem) {
        /** The line that stops the run, or null. */
        public String refusal() {
            return plan.refused() ? plan.refusal() : problem != null ? problem : choice.refusal();
        }
    }

    public static HostFacts facts() {
        return HostFacts.gather(Path.of(System.getProperty(ROOT_PROPERTY, "/")), System.getenv(), System::getProperty,
                HostFacts.hostJarHome(LibtorchBootstrap.class), ClassLoader.getSystemClassLoader());
    }

    public static LibtorchPlan plan(DeviceRequest request, HostFacts facts) {
        return LibtorchPlan.decide(request, facts, System.getProperty("os.name"), System.getProperty("os.arch"));
    }

    /** Plans, loads libtorch and picks the device; {@code notes} gets lines worth telling before a long load. */
    public static Selection select(DeviceRequest request, Consumer<String> notes) {
        HostFacts facts = facts();
        LibtorchPlan plan = plan(request, facts);
        if (plan.refused()) {
            return new Selection(facts, plan, null, null, null);
        }
        if (plan.source() == LibtorchPlan.Source.DJL_CUDA_DOWNLOAD) {
            notes.accept("libtorch: " + plan.reason());
        }
        LoadedLibtorch loaded;
        try {
            loaded = load(plan);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            StringBuilder why = new StringBuilder(String.valueOf(e.getMessage()));
            for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
                why.append(": ").append(c.getMessage()); // DJL wraps the loader's error, which names the file
            }
            return new Selection(facts, plan, null, null, "DJL could not load libtorch (" + plan.reason() + "): " + why);
        }
        return new Selection(facts, plan, loaded, DeviceChoice.decide(request, plan, facts, loaded), null);
    }

    /** Applies the plan unless an engine is loaded already, then loads (or reuses) DJL's PyTorch engine. */
    static synchronized LoadedLibtorch load(LibtorchPlan plan) {
        if (System.getenv("OPT_OUT_TRACKING") == null && System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true"); // DJL's telemetry call, made when not offline
        }
        for (Map.Entry<String, String> e : plan.properties().entrySet()) {
            if (System.getenv(e.getKey()) == null && System.getProperty(e.getKey()) == null) {
                System.setProperty(e.getKey(), e.getValue());
            }
        }
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        if (plan.addJar() != null) {
            // DJL finds natives through the context class loader (ai.djl.util.ClassLoaderUtils#getContextClassLoader)
            thread.setContextClassLoader(new URLClassLoader(new URL[] {url(plan.addJar())},
                    previous == null ? ClassLoader.getSystemClassLoader() : previous));
        }
        Engine engine;
        try {
            engine = Engine.getEngine("PyTorch");
        } finally {
            thread.setContextClassLoader(previous);
        }
        boolean cuda = engine.hasCapability(StandardCapabilities.CUDA);
        int devices = engine.getGpuCount();
        if (devices == 0 && cuda && torchAllocatesOnGpu()) {
            devices = -1;
        }
        // LibUtils is public in pytorch-engine but has no other accessor for the directory DJL loaded
        return new LoadedLibtorch(ai.djl.pytorch.jni.LibUtils.getLibtorchPath(), engine.getVersion(), cuda, devices);
    }

    /**
     * DJL counts GPUs through a {@code libcudart.so} that JNA must find on the library path; with only the driver
     * installed it finds none and says 0 although CUDA libtorch works. Then one allocation on gpu0 tells.
     */
    private static boolean torchAllocatesOnGpu() {
        try (NDManager m = NDManager.newBaseManager(Device.gpu(0), "PyTorch")) {
            m.zeros(new Shape(1));
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static URL url(Path jar) {
        try {
            return jar.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        }
    }
}
