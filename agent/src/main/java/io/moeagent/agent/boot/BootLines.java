package io.moeagent.agent.boot;

/**
 * Caps the boot side's own lines (before the bridge, and its AgentLines, is loaded): prefixed, one line, at most
 * {@link #MAX_LINE} characters, control characters escaped. The core's lines go through the bridge's AgentLines,
 * which does the same; this copy exists because the boot class cannot see the bridge until it has installed it.
 */
final class BootLines {
    static final int MAX_LINE = 600;

    private BootLines() {
    }

    static String line(String text) {
        String t = text.startsWith("moe-agent: ") ? text : "moe-agent: " + text;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < t.length() && sb.length() < MAX_LINE; i++) {
            char c = t.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        if (t.length() > sb.length()) {
            sb.setLength(Math.min(sb.length(), MAX_LINE - 30));
            sb.append("... (").append(t.length()).append(" chars in all)");
        }
        return sb.toString();
    }

    /** A value for a message: quoted, at most 80 characters shown. */
    static String quote(String value) {
        String v = value.length() > 80 ? value.substring(0, 80) + "'... (" + value.length() + " chars)" : value + "'";
        return "'" + v;
    }
}
