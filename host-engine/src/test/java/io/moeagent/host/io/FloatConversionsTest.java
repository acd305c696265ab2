package io.moeagent.host.io;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class FloatConversionsTest {
    @Test
    void everyFloat16SurvivesARoundTripThroughFloat32() {
        for (int h = 0; h < 0x10000; h++) {
            float f = FloatConversions.f16ToF32((short) h);
            short back = FloatConversions.f32ToF16(f);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(FloatConversions.f16ToF32(back)));
            } else {
                assertEquals(h, back & 0xFFFF, "half 0x" + Integer.toHexString(h) + " = " + f);
            }
        }
    }

    @Test
    void float16KnownValues() {
        assertEquals(1.0f, FloatConversions.f16ToF32((short) 0x3C00));
        assertEquals(-2.0f, FloatConversions.f16ToF32((short) 0xC000));
        assertEquals(65504f, FloatConversions.f16ToF32((short) 0x7BFF));
        assertEquals(0x1.0p-24f, FloatConversions.f16ToF32((short) 0x0001));
        assertEquals(Float.POSITIVE_INFINITY, FloatConversions.f16ToF32((short) 0x7C00));
    }

    @Test
    void float32ToFloat16RoundsToNearestEven() {
        assertEquals(0x3C00, FloatConversions.f32ToF16(1.0f + 0x1.0p-11f) & 0xFFFF, "tie goes to even (down)");
        assertEquals(0x3C02, FloatConversions.f32ToF16(1.0f + 3 * 0x1.0p-11f) & 0xFFFF, "tie goes to even (up)");
        assertEquals(0x3C01, FloatConversions.f32ToF16(1.0f + 0x1.8p-11f) & 0xFFFF, "above the tie rounds up");
        assertEquals(0x7BFF, FloatConversions.f32ToF16(65519f) & 0xFFFF, "just below the rounding edge");
        assertEquals(0x7C00, FloatConversions.f32ToF16(65520f) & 0xFFFF, "rounds to infinity");
        assertEquals(0x0001, FloatConversions.f32ToF16(0x1.0p-24f) & 0xFFFF, "smallest subnormal");
        assertEquals(0x0000, FloatConversions.f32ToF16(0x1.0p-26f) & 0xFFFF, "underflows to zero");
        assertEquals(0x8000, FloatConversions.f32ToF16(-0.0f) & 0xFFFF);
    }

    @Test
    void bfloat16IsTheTopHalfWithNearestEvenRounding() {
        assertEquals(1.0f, FloatConversions.bf16ToF32((short) 0x3F80));
        assertEquals(-3.140625f, FloatConversions.bf16ToF32((short) 0xC049));
        assertEquals((short) 0x3F80, FloatConversions.f32ToBf16(1.0f));
        assertEquals((short) 0x3F80, FloatConversions.f32ToBf16(Float.intBitsToFloat(0x3F808000)), "tie to even");
        assertEquals((short) 0x3F82, FloatConversions.f32ToBf16(Float.intBitsToFloat(0x3F818000)), "tie to even up");
        assertEquals((short) 0x3F81, FloatConversions.f32ToBf16(Float.intBitsToFloat(0x3F808001)));
        assertTrue(Float.isNaN(FloatConversions.bf16ToF32(FloatConversions.f32ToBf16(Float.NaN))));
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = FloatConversions.bf16ToF32((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, FloatConversions.f32ToBf16(f));
            }
        }
    }
}
