package io.moeagent.host.device;

import java.util.Locale;

/** What the user asked for with {@code --device}. */
public enum DeviceRequest {
    AUTO, CPU, GPU;

    public static DeviceRequest of(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }

    public String flag() {
        return "--device " + name().toLowerCase(Locale.ROOT);
    }
}
