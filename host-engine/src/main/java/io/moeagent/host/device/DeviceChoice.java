package io.moeagent.host.device;

/**
 * The device a run gets, decided once libtorch is loaded: from what was asked, the plan, and what DJL loaded.
 *
 * @param gpu     run on gpu0
 * @param line    for {@code --device auto}: which device and why, one line for stderr; null otherwise
 * @param refusal non-null when {@code --device gpu} cannot be honoured: the one line to print
 */
public record DeviceChoice(boolean gpu, String line, String refusal) {
    public static DeviceChoice decide(DeviceRequest request, LibtorchPlan plan, HostFacts f, LoadedLibtorch loaded) {
        NvidiaDriver driver = f.driver();
        boolean usable = loaded.cuda() && loaded.devices() != 0;
        switch (request) {
            case CPU:
                return new DeviceChoice(false, null, null);
            case GPU:
                if (usable) {
                    return new DeviceChoice(true, null, null);
                }
                if (loaded.cuda()) {
                    return new DeviceChoice(false, null, DeviceMessages.noVisibleDevice(loaded.describe(), f));
                }
                return new DeviceChoice(false, null, driver.present()
                        ? DeviceMessages.cpuLibtorch(driver, DeviceMessages.whyLoadedCpu(loaded.describe()),
                                DeviceMessages.FIX_LOADED_CPU)
                        : DeviceMessages.noDriver(driver));
            default:
                if (usable) {
                    return new DeviceChoice(true, DeviceMessages.autoGpu(loaded.describe(), loaded.devices()), null);
                }
                String because;
                if (loaded.cuda()) {
                    because = DeviceMessages.autoNoDevice(loaded.describe(), f);
                } else if (plan.cpuBecause() != null) {
                    because = plan.cpuBecause();
                } else if (driver.present()) {
                    because = DeviceMessages.autoDriverButCpu(driver, DeviceMessages.whyLoadedCpu(loaded.describe()),
                            DeviceMessages.FIX_LOADED_CPU);
                } else {
                    because = DeviceMessages.autoNoDriver();
                }
                return new DeviceChoice(false, DeviceMessages.autoCpu(because), null);
        }
    }
}
