package io.moeagent.host.cli;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.moeagent.host.device.DeviceChoice;
import io.moeagent.host.device.DeviceMessages;
import io.moeagent.host.device.DeviceRequest;
import io.moeagent.host.device.HostFacts;
import io.moeagent.host.device.LibtorchBootstrap;
import io.moeagent.host.device.LibtorchPlan;
import io.moeagent.host.device.LoadedLibtorch;
import io.moeagent.host.device.NvidiaDriver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.concurrent.Callable;

/**
 * Prints what a run would use (Java, DJL, the libtorch and why, CUDA devices, device, dtype, expert dispatch) without
 * loading a model. Exit 0 when the requested device can be had, 1 when not (the last line says why).
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Print Java, DJL, libtorch (path, version, flavour), CUDA devices and the device, dtype and "
                + "expert dispatch a run with these options would use. Loads libtorch, never a model.")
public final class DoctorCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--no-engine", description = "Do not load libtorch either: print only the plan.")
    boolean noEngine;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        DeviceRequest request = DeviceRequest.of(model.device.name());
        HostFacts f = LibtorchBootstrap.facts();
        out.printf(Locale.ROOT, "java:          %s (%s) at %s%n", System.getProperty("java.version"),
                System.getProperty("java.vendor"), System.getProperty("java.home"));
        out.printf(Locale.ROOT, "djl:           %s, PyTorch engine for libtorch %s%n", f.djlVersion(), f.torchVersion());
        out.printf(Locale.ROOT, "os:            %s %s%n", System.getProperty("os.name"), System.getProperty("os.arch"));
        out.println("nvidia driver: " + driver(f.driver()));
        out.println("settings:      " + settings(f));
        out.println("djl cache:     " + f.engineCacheDir() + " (DJL's CUDA build " + (f.djlCuda().hasLibtorch()
                ? "present: " + f.djlCuda().describe() : "not there: " + f.djlCuda().dir()) + ")");
        out.println("requested:     " + request.flag());
        LibtorchPlan plan = LibtorchBootstrap.plan(request, f);
        String problem = plan.refusal();
        Boolean gpu = null; // null: not known without loading
        if (!plan.refused()) {
            out.println("libtorch plan: " + plan.reason());
            if (noEngine) {
                out.println("libtorch:      not loaded (--no-engine)");
            } else if (plan.source() == LibtorchPlan.Source.DJL_CUDA_DOWNLOAD) {
                out.println("libtorch:      not loaded: a run would download it first (doctor never downloads)");
            } else {
                LibtorchBootstrap.Selection s = LibtorchBootstrap.select(request, line -> { });
                if (s.problem() != null) {
                    problem = s.problem();
                } else {
                    LoadedLibtorch loaded = s.loaded();
                    DeviceChoice choice = s.choice();
                    out.println("libtorch:      " + loaded.describe());
                    out.println("cuda devices:  " + (loaded.cuda() ? devices(loaded.devices()) + " ("
                            + f.shown("CUDA_VISIBLE_DEVICES") + ")" : "none: a CPU build"));
                    problem = choice.refusal();
                    gpu = choice.gpu();
                    if (choice.line() != null) {
                        out.println("choice:        " + choice.line());
                    }
                }
            }
            if (problem == null) {
                if (gpu == null) {
                    gpu = request != DeviceRequest.CPU && plan.cuda();
                    if (request == DeviceRequest.AUTO && !plan.cuda()) {
                        out.println("choice:        " + DeviceMessages.autoCpu(plan.cpuBecause()));
                    }
                    out.println("device:        " + (gpu ? "gpu0, if libtorch sees a CUDA device once loaded" : "cpu"));
                } else {
                    out.println("device:        " + (gpu ? "gpu0" : "cpu"));
                }
                Device device = gpu ? Device.gpu() : Device.cpu();
                DataType dtype = EngineSession.dtype(model.dtype, device);
                out.println("dtype:         " + (dtype == DataType.FLOAT16 ? "float16" : "float32"));
                out.println("experts:       " + EngineSession.layout(model.expertLayout).resolve(device).name()
                        .toLowerCase(Locale.ROOT) + " dispatch");
            }
        }
        out.println("status:        " + (problem == null ? "ok" : problem));
        out.flush();
        return problem == null ? 0 : 1;
    }

    private static String driver(NvidiaDriver d) {
        if (!d.present()) {
            return "none found (" + DeviceMessages.searched(d) + ")";
        }
        return d.describe() + (d.listedGpus() > 0 ? ", " + d.listedGpus() + " GPU" + (d.listedGpus() == 1 ? "" : "s")
                + " listed in /proc/driver/nvidia/gpus" : "");
    }

    private static String settings(HostFacts f) {
        StringJoiner j = new StringJoiner(", ");
        for (String name : HostFacts.SETTINGS) {
            j.add(f.shown(name));
        }
        j.add("offline " + (f.offline() ? "yes" : "no (DJL may download)"));
        return j.toString();
    }

    private static String devices(int n) {
        return n < 0 ? "at least 1 (DJL's count is 0: JNA finds no libcudart.so; torch allocated on gpu0)"
                : Integer.toString(n);
    }
}
