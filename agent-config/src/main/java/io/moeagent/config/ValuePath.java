package io.moeagent.config;

import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * Where a value comes from at the expert-selection method's exit: a root ({@code return}, {@code this},
 * {@code argN} with N 0-based, or {@code enclosing} = the receiver of the enclosing layer method) followed by
 * zero or more field names, e.g. {@code return.expertIds}; or an integer constant such as {@code 4}.
 * Field names are resolved once per receiver class by the agent, not per call.
 */
public final class ValuePath {
    public enum Root { RETURN, THIS, ARGUMENT, ENCLOSING, CONSTANT }

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*");
    private static final Pattern ARG = Pattern.compile("arg(\\d{1,3})");

    private final Root root;
    private final int argumentIndex;
    private final long constant;
    private final String[] fields;
    private final String text;

    private ValuePath(Root root, int argumentIndex, long constant, String[] fields, String text) {
        this.root = root;
        this.argumentIndex = argumentIndex;
        this.constant = constant;
        this.fields = fields;
        this.text = text;
    }

    /**
     * @param constantAllowed whether an integer literal is a valid value for this key (k, layer)
     */
    public static ValuePath parse(String key, String value, boolean constantAllowed) throws ConfigException {
        String allowed = "return, this or argN (N 0-based), optionally followed by .field names"
                + (key.endsWith("layer") ? ", or enclosing.field (with pointcut.layer-method)" : "")
                + (constantAllowed ? ", or an integer constant" : "");
        String v = value.trim();
        if (constantAllowed && v.matches("-?\\d{1,9}")) {
            return new ValuePath(Root.CONSTANT, -1, Long.parseLong(v), new String[0], v);
        }
        String[] parts = v.split("\\.", -1);
        Root root;
        int arg = -1;
        var m = ARG.matcher(parts[0]);
        if (parts[0].equals("return")) {
            root = Root.RETURN;
        } else if (parts[0].equals("this")) {
            root = Root.THIS;
        } else if (parts[0].equals("enclosing") && key.endsWith("layer")) {
            root = Root.ENCLOSING;
        } else if (m.matches()) {
            root = Root.ARGUMENT;
            arg = Integer.parseInt(m.group(1));
        } else {
            throw ConfigException.badValue(key, value, allowed);
        }
        String[] fields = Arrays.copyOfRange(parts, 1, parts.length);
        for (String f : fields) {
            if (!IDENTIFIER.matcher(f).matches()) {
                throw ConfigException.badValue(key, value, allowed);
            }
        }
        if ((root == Root.THIS || root == Root.ENCLOSING) && fields.length == 0) {
            throw ConfigException.badValue(key, value, allowed + " (" + parts[0] + " needs a field)");
        }
        return new ValuePath(root, arg, 0, fields, v);
    }

    public static ValuePath of(String text) {
        try {
            return parse("value", text, true);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    public Root root() {
        return root;
    }

    /** 0-based argument index for {@link Root#ARGUMENT}, else -1. */
    public int argumentIndex() {
        return argumentIndex;
    }

    public long constant() {
        return constant;
    }

    public boolean isConstant() {
        return root == Root.CONSTANT;
    }

    public String[] fields() {
        return fields.clone();
    }

    @Override
    public String toString() {
        return text;
    }
}
