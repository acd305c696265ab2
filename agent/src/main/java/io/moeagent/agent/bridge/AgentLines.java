package io.moeagent.agent.bridge;

/**
 * The one way the agent writes to the host's stderr: a single line, prefixed {@code moe-agent: }, at most
 * {@link #MAX_LINE} characters, control characters shown as {@code \\uXXXX}, so that neither a huge option value
 * nor a line break in some message can flood or forge the host's output. JDK types only (the boot side uses it
 * before any agent class is loaded; the core side through the bootstrap class path).
 */
public final class AgentLines {
    public static final String PREFIX = "moe-agent: ";
    /** Longest line written, prefix included. */
    public static final int MAX_LINE = 600;
    /** Longest part of a quoted value shown. */
    public static final int MAX_VALUE = 80;

    private AgentLines() {
    }

    /** Writes {@code text} (with or without the prefix) as one capped line. */
    public static void print(String text) {
        System.err.println(line(text));
    }

    /** {@code text} as the line {@link #print} would write. */
    public static String line(String text) {
        String t = text == null ? "" : text;
        if (!t.startsWith(PREFIX)) {
            t = PREFIX + t;
        }
        StringBuilder sb = new StringBuilder(Math.min(t.length(), MAX_LINE) + 16);
        for (int i = 0; i < t.length() && sb.length() < MAX_LINE; i++) {
            appendVisible(sb, t.charAt(i));
        }
        if (sb.length() >= MAX_LINE && t.length() > sb.length()) {
            sb.setLength(MAX_LINE - 30);
            sb.append("... (").append(t.length()).append(" chars in all)");
        }
        return sb.toString();
    }

    /** A user-given value for a message: in single quotes, control characters escaped, long ones cut. */
    public static String quote(String value) {
        if (value == null) {
            return "(none)";
        }
        StringBuilder sb = new StringBuilder("'");
        int n = Math.min(value.length(), MAX_VALUE);
        for (int i = 0; i < n; i++) {
            appendVisible(sb, value.charAt(i));
        }
        sb.append('\'');
        if (value.length() > MAX_VALUE) {
            sb.append("... (").append(value.length()).append(" chars)");
        }
        return sb.toString();
    }

    /** A byte count as people read it: 512 B, 64 KB, 1.5 MB, ... */
    public static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KB", "MB", "GB", "TB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? Long.toString((long) v) : String.format(java.util.Locale.ROOT, "%.1f", v))
                + " " + units[u];
    }

    private static void appendVisible(StringBuilder sb, char c) {
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029') {
            sb.append(String.format("\\u%04x", (int) c));
        } else {
            sb.append(c);
        }
    }
}
