package io.moeagent.config;

/** {@code Class#method}: every overload of the method declared by that class (binary name). */
public record MethodRef(String className, String methodName) {
    static MethodRef parse(String key, String value) throws ConfigException {
        String v = value.trim();
        int hash = v.indexOf('#');
        if (hash < 0 || !v.substring(0, hash).matches("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*")
                || !v.substring(hash + 1).matches("[A-Za-z_$][A-Za-z0-9_$]*")) {
            throw ConfigException.badValue(key, value, "Class#method, e.g. org.example.DecoderLayer#forward, or none");
        }
        return new MethodRef(v.substring(0, hash), v.substring(hash + 1));
    }

    @Override
    public String toString() {
        return className + "#" + methodName;
    }
}
