package io.moeagent.host.model;

import ai.djl.ndarray.NDArray;

/** {@code down(silu(gate(x)) * up(x))}: a routed expert, the shared expert, or a dense layer's MLP. */
public final class SwiGluMlp {
    /** gate_proj [I, H] */
    private final Linear gate;
    /** up_proj [I, H] */
    private final Linear up;
    /** down_proj [H, I] */
    private final Linear down;

    public SwiGluMlp(Linear gate, Linear up, Linear down) {
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    /** x: [N, H] -> [N, H] */
    public NDArray apply(NDArray x) {
        NDArray g = gate.apply(x);
        return down.apply(silu(g).mul(up.apply(x)));
    }

    static NDArray silu(NDArray x) {
        return x.mul(x.getNDArrayInternal().sigmoid());
    }

    Linear gate() {
        return gate;
    }

    Linear up() {
        return up;
    }

    Linear down() {
        return down;
    }
}
