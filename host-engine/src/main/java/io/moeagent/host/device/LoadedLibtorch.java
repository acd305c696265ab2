package io.moeagent.host.device;

/**
 * The libtorch DJL actually loaded, as DJL reports it.
 *
 * @param dir     the directory DJL loaded it from
 * @param version torch's version ("2.7.1")
 * @param cuda    the build has CUDA (DJL's {@code StandardCapabilities.CUDA})
 * @param devices CUDA devices visible: DJL's count; -1 when DJL counts 0 (it asks a {@code libcudart.so} found by
 *                JNA, which a machine with only the driver lacks) but torch allocated on gpu0 all the same
 */
public record LoadedLibtorch(String dir, String version, boolean cuda, int devices) {
    /** "libtorch 2.7.1 (CUDA build) at DIR" */
    public String describe() {
        return "libtorch " + version + " (" + (cuda ? "CUDA" : "CPU") + " build) at " + dir;
    }
}
