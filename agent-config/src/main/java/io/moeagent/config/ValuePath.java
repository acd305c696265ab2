package io.moeagent.config;

import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * Where a value comes from when the expert-selection method returns. Syntax:
 * <pre>
 *   path    := root ( '.' segment )* [ '[ids]' ]   |   integer constant (where allowed)
 *   root    := return | this | argN                   the selection call's return value, receiver, argument N (0-based)
 *            | SCOPE.this | SCOPE.argN                a scope's receiver or argument N; SCOPE is request, step or layer
 *            | enclosing                              older name of layer.this
 *   segment := field | method()                       an instance field (private ones too) or a no-argument method
 * </pre>
 * {@code [ids]} (weights only) gathers: the value is indexed by expert id (a per-expert array, buffer or tensor), and
 * the agent picks the selected ids' entries. Request and step paths read the scope's outermost running call (the one
 * that began it), layer paths the innermost. Segments are resolved once per receiver class by the agent, not per call.
 */
public final class ValuePath {
    public enum Root { RETURN, THIS, ARGUMENT, ENCLOSING, SCOPE, CONSTANT }

    /** The three scopes a configuration can bind to engine methods. */
    public enum Scope {
        REQUEST, STEP, LAYER;

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*");
    private static final Pattern METHOD = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*\\(\\)");
    private static final Pattern ARG = Pattern.compile("arg(\\d{1,3})");
    public static final String GATHER_SUFFIX = "[ids]";

    private final Root root;
    private final Scope scope;
    private final int argumentIndex;
    private final long constant;
    private final String[] segments;
    private final boolean gather;
    private final String text;

    private ValuePath(Root root, Scope scope, int argumentIndex, long constant, String[] segments, boolean gather,
                      String text) {
        this.root = root;
        this.scope = scope;
        this.argumentIndex = argumentIndex;
        this.constant = constant;
        this.segments = segments;
        this.gather = gather;
        this.text = text;
    }

    /** What every path key accepts, for messages and the option table. */
    public static String syntax(boolean constantAllowed, boolean gatherAllowed) {
        return "return, this, argN, request|step|layer.this or request|step|layer.argN (N 0-based), then .field or"
                + " .method() segments" + (gatherAllowed ? ", optionally ending in [ids] (indexed by expert id)" : "")
                + (constantAllowed ? ", or an integer constant" : "");
    }

    /**
     * @param constantAllowed whether an integer literal is a valid value for this key (k, layer)
     */
    public static ValuePath parse(String key, String value, boolean constantAllowed) throws ConfigException {
        return parse(key, value, constantAllowed, false);
    }

    public static ValuePath parse(String key, String value, boolean constantAllowed, boolean gatherAllowed)
            throws ConfigException {
        String allowed = syntax(constantAllowed, gatherAllowed);
        String v = value.trim();
        if (constantAllowed && v.matches("-?\\d{1,9}")) {
            return new ValuePath(Root.CONSTANT, null, -1, Long.parseLong(v), new String[0], false, v);
        }
        boolean gather = false;
        String body = v;
        if (v.endsWith(GATHER_SUFFIX)) {
            if (!gatherAllowed) {
                throw ConfigException.badValue(key, value, allowed + " ([ids] only for pointcut.weights)");
            }
            gather = true;
            body = v.substring(0, v.length() - GATHER_SUFFIX.length());
        }
        String[] parts = body.split("\\.", -1);
        Root root;
        Scope scope = null;
        int arg = -1;
        int first = 1;
        if (parts[0].equals("return")) {
            root = Root.RETURN;
        } else if (parts[0].equals("this")) {
            root = Root.THIS;
        } else if (parts[0].equals("enclosing")) {
            root = Root.SCOPE;
            scope = Scope.LAYER;
        } else if (ARG.matcher(parts[0]).matches()) {
            root = Root.ARGUMENT;
            arg = argIndex(parts[0]);
        } else if (scopeName(parts[0]) != null) {
            scope = scopeName(parts[0]);
            root = Root.SCOPE;
            if (parts.length < 2 || !(parts[1].equals("this") || ARG.matcher(parts[1]).matches())) {
                throw ConfigException.badValue(key, value, allowed + " (" + parts[0] + " needs .this or .argN)");
            }
            arg = parts[1].equals("this") ? -1 : argIndex(parts[1]);
            first = 2;
        } else {
            throw ConfigException.badValue(key, value, allowed);
        }
        String[] segments = Arrays.copyOfRange(parts, first, parts.length);
        for (String f : segments) {
            if (!IDENTIFIER.matcher(f).matches() && !METHOD.matcher(f).matches()) {
                throw ConfigException.badValue(key, value, allowed);
            }
        }
        if (root == Root.THIS && segments.length == 0) {
            throw ConfigException.badValue(key, value, allowed + " (this needs a field)");
        }
        if (parts[0].equals("enclosing") && segments.length == 0) {
            throw ConfigException.badValue(key, value, allowed + " (enclosing needs a field)");
        }
        return new ValuePath(root, scope, arg, 0, segments, gather, v);
    }

    private static int argIndex(String part) {
        var m = ARG.matcher(part);
        m.matches();
        return Integer.parseInt(m.group(1));
    }

    private static Scope scopeName(String s) {
        for (Scope sc : Scope.values()) {
            if (sc.key().equals(s)) {
                return sc;
            }
        }
        return null;
    }

    public static ValuePath of(String text) {
        try {
            return parse("value", text, true, true);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    public Root root() {
        return root;
    }

    /** The scope a {@link Root#SCOPE} path reads, else null. */
    public Scope scope() {
        return scope;
    }

    /** 0-based argument index for {@link Root#ARGUMENT} and scope arguments; -1 for a receiver. */
    public int argumentIndex() {
        return argumentIndex;
    }

    public long constant() {
        return constant;
    }

    public boolean isConstant() {
        return root == Root.CONSTANT;
    }

    /** Whether the value is indexed by expert id ({@code ...[ids]}). */
    public boolean gather() {
        return gather;
    }

    /** Field names and {@code name()} method calls after the root. */
    public String[] fields() {
        return segments.clone();
    }

    @Override
    public String toString() {
        return text;
    }
}
