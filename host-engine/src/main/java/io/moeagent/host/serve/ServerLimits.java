package io.moeagent.host.serve;

/**
 * What one client can hold of the server: worker threads (each streaming answer holds one), open connections, how
 * long a silent connection stays open (also one that never finishes its headers), header and body sizes.
 */
public record ServerLimits(int threads, int maxConnections, long idleTimeoutMillis, int maxHeaderBytes,
                           int maxBodyBytes) {
    public static final ServerLimits DEFAULT = new ServerLimits(64, 256, 30_000, 16 << 10, 4 << 20);

    public ServerLimits {
        if (threads < 4 || maxConnections < 1 || idleTimeoutMillis < 1 || maxHeaderBytes < 1024 || maxBodyBytes < 1) {
            throw new IllegalArgumentException("server limits out of range: " + threads + " threads (>= 4), "
                    + maxConnections + " connections, " + idleTimeoutMillis + " ms idle timeout, " + maxHeaderBytes
                    + " header bytes (>= 1024), " + maxBodyBytes + " body bytes");
        }
    }
}
