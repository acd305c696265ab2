package io.moeagent.config;

/** A configuration the agent refuses; the message names the key, the value and what is allowed, on one line. */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }

    static ConfigException badValue(String key, String value, String allowed) {
        return new ConfigException("option " + quote(key) + " has value " + quote(value) + "; allowed: " + allowed);
    }

    /**
     * A user-given text for a message (issue 9): in single quotes, at most {@link #MAX_QUOTED} characters of it,
     * control characters as backslash-u escapes, so a huge or multi-line value gives one short line.
     */
    public static String quote(String value) {
        if (value == null) {
            return "(none)";
        }
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < Math.min(value.length(), MAX_QUOTED); i++) {
            char c = value.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        sb.append('\'');
        if (value.length() > MAX_QUOTED) {
            sb.append("... (").append(value.length()).append(" chars)");
        }
        return sb.toString();
    }

    /** Longest part of a user-given value that a message shows. */
    public static final int MAX_QUOTED = 80;
}
