package io.moeagent.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Built-in engine profiles: properties resources {@code io/moeagent/config/profiles/NAME.properties} shipped in the
 * agent jar, each setting the pointcut, scope and meta keys for one engine. {@code profile=NAME} picks one; every
 * other source (config file, {@code MOE_ROUTE_LOG}, agent arguments) still overrides single keys.
 */
public final class Profiles {
    /** The profile used when none is named: the bundled host engine. */
    public static final String DEFAULT = "moe-host";
    /** No profile: only the option table's base defaults (the start for a new engine's own keys). */
    public static final String NONE = "none";
    private static final List<String> NAMES = List.of(DEFAULT, "jlama-mixtral");

    private Profiles() {
    }

    public static List<String> names() {
        return NAMES;
    }

    /** The profile's key/value pairs (sorted by key); throws for a name that is not built in. */
    public static Map<String, String> load(String name) {
        try {
            return read(name);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    static Map<String, String> read(String name) throws ConfigException {
        if (name.equals(NONE)) {
            return new TreeMap<>();
        }
        if (!NAMES.contains(name)) {
            throw ConfigException.badValue("profile", name, "one of " + String.join(", ", NAMES) + ", or " + NONE);
        }
        String resource = "profiles/" + name + ".properties";
        Properties p = new Properties();
        try (InputStream in = Profiles.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new ConfigException("profile '" + name + "' is missing from the agent jar (" + resource
                        + "); rebuild the agent");
            }
            p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ConfigException("profile '" + name + "' cannot be read (" + e.getMessage() + ")");
        }
        Map<String, String> out = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            AgentOptions.Option o = AgentOptions.get(k);
            if (o == null || !o.profiled()) {
                throw new ConfigException("profile '" + name + "' sets '" + k + "', which is not a profile key");
            }
            out.put(k, p.getProperty(k).trim());
        }
        return out;
    }
}
