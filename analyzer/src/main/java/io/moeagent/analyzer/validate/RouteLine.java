package io.moeagent.analyzer.validate;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Arrays;

/**
 * The fields of one route line, read with Jackson's streaming parser so that nothing is materialised beyond a bound:
 * arrays keep at most {@code cap} entries (the meta line's top_k) and only count the rest, unknown fields are skipped
 * unread. A line holding a 25-million-entry array costs its length in bytes, not a tree of millions of nodes.
 */
final class RouteLine {
    private static final int PREVIEW = 40;

    /** A scalar field: whether it was there, its token, its value when integral, and a short preview. */
    static final class Scalar {
        boolean present;
        JsonToken token;
        /** For VALUE_NUMBER_INT that fits a long. */
        boolean fitsLong;
        long longValue;
        String text;
        String preview;

        void reset() {
            present = false;
            token = null;
            fitsLong = false;
            text = null;
            preview = "missing";
        }

        boolean isInt() {
            return present && token == JsonToken.VALUE_NUMBER_INT && fitsLong;
        }

        boolean isText() {
            return present && token == JsonToken.VALUE_STRING;
        }
    }

    /** An array field: how many entries it had, the first {@code cap} of them, and the first entry of a wrong kind. */
    static final class Array {
        boolean present;
        JsonToken token;
        String preview;
        int count;
        int stored;
        long[] ints = new long[16];
        double[] doubles = new double[16];
        /** Preview of the first entry that is not an integer (ids) or not a number (weights); null when none. */
        String badEntry;
        /** Ids: an integer entry too large for an int. */
        String outOfRange;

        void reset() {
            present = false;
            token = null;
            preview = "missing";
            count = 0;
            stored = 0;
            badEntry = null;
            outOfRange = null;
        }

        boolean isArray() {
            return present && token == JsonToken.START_ARRAY;
        }

        boolean isNull() {
            return present && token == JsonToken.VALUE_NULL;
        }

        /** The stored entries as JSON-like text, {@code ,...} marking entries not kept. */
        String render(boolean integers) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < stored; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                if (integers) {
                    sb.append(ints[i]);
                } else {
                    sb.append(doubles[i]);
                }
            }
            if (count > stored) {
                sb.append(stored > 0 ? "," : "").append("... ").append(count - stored).append(" more");
            }
            return sb.append(']').toString();
        }
    }

    final Scalar type = new Scalar();
    final Scalar req = new Scalar();
    final Scalar tokenIdx = new Scalar();
    final Scalar layer = new Scalar();
    final Scalar phase = new Scalar();
    final Scalar tokenId = new Scalar();
    final Array ids = new Array();
    final Array weights = new Array();

    /** Reads the object the parser is at (its START_OBJECT already read), keeping at most {@code cap} entries. */
    void read(JsonParser p, int cap) throws IOException {
        type.reset();
        req.reset();
        tokenIdx.reset();
        layer.reset();
        phase.reset();
        tokenId.reset();
        ids.reset();
        weights.reset();
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            switch (name) {
                case "type" -> scalar(type, p, v);
                case "req_id" -> scalar(req, p, v);
                case "token_idx" -> scalar(tokenIdx, p, v);
                case "layer" -> scalar(layer, p, v);
                case "phase" -> scalar(phase, p, v);
                case "token_id" -> scalar(tokenId, p, v);
                case "topk_ids" -> array(ids, p, v, cap, true);
                case "topk_weights" -> array(weights, p, v, cap, false);
                default -> p.skipChildren();
            }
        }
    }

    private static void scalar(Scalar s, JsonParser p, JsonToken v) throws IOException {
        s.present = true;
        s.token = v;
        if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
            s.preview = v == JsonToken.START_OBJECT ? "an object" : "an array";
            p.skipChildren();
            return;
        }
        if (v == JsonToken.VALUE_NUMBER_INT) {
            JsonParser.NumberType nt = p.getNumberType();
            s.fitsLong = nt == JsonParser.NumberType.INT || nt == JsonParser.NumberType.LONG;
            if (s.fitsLong) {
                s.longValue = p.getLongValue();
            }
        }
        String text = p.getText();
        if (v == JsonToken.VALUE_STRING) {
            s.text = text;
            s.preview = preview("\"" + text + "\"");
        } else {
            s.preview = preview(text);
        }
    }

    private static void array(Array a, JsonParser p, JsonToken v, int cap, boolean integers) throws IOException {
        a.present = true;
        a.token = v;
        if (v != JsonToken.START_ARRAY) {
            a.preview = v == JsonToken.START_OBJECT ? "an object" : preview(v == JsonToken.VALUE_STRING
                    ? "\"" + p.getText() + "\"" : p.getText());
            p.skipChildren();
            return;
        }
        a.preview = "an array";
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
            if (e == null) {
                throw new java.io.EOFException("unexpected end of input in an array");
            }
            a.count++;
            if (e == JsonToken.START_OBJECT || e == JsonToken.START_ARRAY) {
                if (a.badEntry == null) {
                    a.badEntry = e == JsonToken.START_OBJECT ? "an object" : "an array";
                }
                p.skipChildren();
                continue;
            }
            boolean ok = integers ? e == JsonToken.VALUE_NUMBER_INT : e.isNumeric();
            if (!ok) {
                if (a.badEntry == null) {
                    a.badEntry = preview(e == JsonToken.VALUE_STRING ? "\"" + p.getText() + "\"" : p.getText());
                }
                continue;
            }
            if (a.stored >= cap) {
                continue;
            }
            if (a.stored == a.ints.length) {
                int n = Math.min(cap, a.stored * 2);
                a.ints = Arrays.copyOf(a.ints, n);
                a.doubles = Arrays.copyOf(a.doubles, n);
            }
            if (integers) {
                if (p.getNumberType() != JsonParser.NumberType.INT) {
                    if (a.outOfRange == null) {
                        a.outOfRange = preview(p.getText());
                    }
                    continue;
                }
                a.ints[a.stored++] = p.getIntValue();
            } else {
                a.doubles[a.stored++] = p.getDoubleValue();
            }
        }
    }

    static String preview(String s) {
        return s.length() > PREVIEW ? s.substring(0, PREVIEW) + "..." : s;
    }
}
