package io.moeagent.host.serve;

import io.moeagent.host.tokenizer.TextTokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a request's generated tokens, one at a time, into final pieces of text: text that may still turn into a
 * stop string, or that ends in an incomplete UTF-8 sequence (U+FFFD from a byte-level token), is held back until the
 * next token decides it. Once a stop string appears the text ends just before it.
 */
final class IncrementalText {
    private final TextTokenizer tokenizer;
    private final List<String> stops;
    private final List<Long> ids = new ArrayList<>();
    private String text = "";
    private int emitted;
    private boolean stopped;

    IncrementalText(TextTokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = stops;
    }

    /** Adds the next generated token; returns the text that became final ("" for none). */
    String add(long token) {
        if (stopped) {
            return "";
        }
        ids.add(token);
        text = tokenizer.decode(ids.stream().mapToLong(Long::longValue).toArray());
        int stopAt = firstStop();
        if (stopAt >= 0) {
            stopped = true;
            return take(Math.max(stopAt, emitted));
        }
        return take(Math.max(emitted, text.length() - heldBack()));
    }

    /** The text still held back, once no more tokens come. */
    String finish() {
        return stopped ? "" : take(text.length());
    }

    /** Whether a stop string ended the text. */
    boolean stopped() {
        return stopped;
    }

    /** Tokens added (up to and including the one that completed a stop string). */
    int tokens() {
        return ids.size();
    }

    /** All final text so far. */
    String text() {
        return text.substring(0, emitted);
    }

    private String take(int end) {
        String piece = text.substring(emitted, end);
        emitted = end;
        return piece;
    }

    private int firstStop() {
        int first = -1;
        for (String stop : stops) {
            int at = text.indexOf(stop, Math.max(0, emitted - stop.length() + 1));
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }

    /** How many trailing characters might still change: a partial stop string or undecoded bytes. */
    private int heldBack() {
        int hold = 0;
        while (hold < text.length() && text.charAt(text.length() - 1 - hold) == '\uFFFD') {
            hold++;
        }
        for (String stop : stops) {
            for (int n = Math.min(stop.length() - 1, text.length()); n > hold; n--) {
                if (text.endsWith(stop.substring(0, n))) {
                    hold = n;
                    break;
                }
            }
        }
        return hold;
    }
}
