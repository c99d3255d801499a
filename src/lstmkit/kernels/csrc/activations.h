// Element-wise activations written so that the compiler can vectorise the loops that call them.
//
// libm's exp/tanh are scalar calls unless built with -ffast-math (which also changes the rounding
// mode of the whole process when linked): these are Cephes' range reduction (x = n ln2 + r) with a
// polynomial (float) or Pade (double) approximation of e^r, then 2^n put straight into the exponent
// bits. Both are within a few ulp of libm over the clamped range, which is far inside the 1e-10
// (float64) and 1e-5 (float32) parity tolerances.
#pragma once

#include <cmath>
#include <cstdint>

namespace lstmkit {

static inline float fast_exp(float x) {
    // Clamp in an order that keeps NaN: max(NaN, lo) and min(NaN, hi) both return their first argument.
    x = x < 88.3762626647949f ? x : 88.3762626647949f;
    x = x > -87.3365478515625f ? x : -87.3365478515625f;
    // Round to nearest by adding and subtracting 1.5 * 2^23 (floor() blocks vectorisation).
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float scale = __builtin_bit_cast(float, bits);
    return y * scale;
}

static inline double fast_exp(double x) {
    x = x < 709.0 ? x : 709.0;
    x = x > -708.0 ? x : -708.0;
    double n = (x * 1.4426950408889634073599 + 6755399441055744.0) - 6755399441055744.0;
    double r = x - n * 6.93145751953125e-1 - n * 1.42860682030941723212e-6;
    double rr = r * r;
    double px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr + 9.99999999999999999910e-1);
    double qx = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr + 2.27265548208155028766e-1) * rr
                + 2.00000000000000000009e0;
    double y = 1.0 + 2.0 * px / (qx - px);
    int64_t bits = static_cast<int64_t>(static_cast<int32_t>(n) + 1023) << 52;
    double scale = __builtin_bit_cast(double, bits);
    return y * scale;
}

template <typename S>
static inline S sigmoid(S x) {
    return S(1) / (S(1) + fast_exp(-x));
}

// tanh(x) = 1 - 2 / (e^{2x} + 1): exact at the limits, absolute error of a few ulp near zero.
template <typename S>
static inline S tanh_(S x) {
    return S(1) - S(2) / (fast_exp(S(2) * x) + S(1));
}

}  // namespace lstmkit
