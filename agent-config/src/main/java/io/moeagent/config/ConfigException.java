package io.moeagent.config;

/** A configuration the agent refuses; the message names the key, the value and what is allowed, on one line. */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }

    static ConfigException badValue(String key, String value, String allowed) {
        return new ConfigException("option '" + key + "' has value '" + value + "'; allowed: " + allowed);
    }
}
