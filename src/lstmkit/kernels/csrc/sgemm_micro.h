// The register-blocked micro-kernel of lstmkit's float32 GEMMs and the packing it reads, shared by
// the step and whole-sequence products (sgemm.cpp) and the weight gradients (weight_grad.cpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "sgemm.h"

namespace lstmkit {

// One vector register of floats (sgemm.h picks its width for the build machine).
typedef float vec __attribute__((vector_size(SGEMM_LANES * sizeof(float))));

inline vec load(const float* p) {
    vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline void store(float* p, vec v) { std::memcpy(p, &v, sizeof v); }

// One MR x NR block of C: acc = op(A)[0:MR, :] panel, then C = acc + beta C (``width`` columns stored).
// op(A)[r][kk] is a[r * lda + kk], or a[kk * lda + r] when A is transposed (then the MR values of one
// k are contiguous).
// ``bias`` (NR values, zero-padded) starts every row of the block instead of zero.
template <int MR, bool TRANS_A>
inline void micro_kernel(int k, const float* a, int lda, const float* panel, const float* bias, float beta, float* c,
                         int ldc, int width) {
    // A block of one to three rows has too few accumulators to hide the latency of a fused multiply-add
    // (each waits for the one before on the same register): it runs CHAINS independent sums over
    // alternate k instead, added up at the end.
    constexpr int CHAINS = MR >= 4 ? 1 : (MR == 1 ? 4 : 2);
    vec acc0[CHAINS][MR], acc1[CHAINS][MR];
    const vec start0 = bias ? load(bias) : vec{}, start1 = bias ? load(bias + SGEMM_LANES) : vec{};
    for (int r = 0; r < MR; ++r) {
        for (int chain = 0; chain < CHAINS; ++chain) acc0[chain][r] = acc1[chain][r] = vec{};
        acc0[0][r] = start0;
        acc1[0][r] = start1;
        // Ask for C's lines now, so the stores at the end do not wait for them (with a short k the
        // wait would otherwise be a good part of the block's time).
        __builtin_prefetch(c + int64_t(r) * ldc, 1);
        __builtin_prefetch(c + int64_t(r) * ldc + SGEMM_LANES, 1);
    }
    const auto update = [&](int kk, int chain) {
        const vec b0 = load(panel + int64_t(kk) * SGEMM_NR);
        const vec b1 = load(panel + int64_t(kk) * SGEMM_NR + SGEMM_LANES);
        for (int r = 0; r < MR; ++r) {
            const float ar = TRANS_A ? a[int64_t(kk) * lda + r] : a[int64_t(r) * lda + kk];
            acc0[chain][r] += ar * b0;
            acc1[chain][r] += ar * b1;
        }
    };
    int kk = 0;
    for (; kk + CHAINS <= k; kk += CHAINS)
        for (int chain = 0; chain < CHAINS; ++chain) update(kk + chain, chain);
    for (; kk < k; ++kk) update(kk, 0);
    for (int chain = 1; chain < CHAINS; ++chain)
        for (int r = 0; r < MR; ++r) {
            acc0[0][r] += acc0[chain][r];
            acc1[0][r] += acc1[chain][r];
        }
    for (int r = 0; r < MR; ++r) {
        float* cr = c + int64_t(r) * ldc;
        if (width == SGEMM_NR) {
            if (beta != 0.0f) {
                acc0[0][r] += load(cr);
                acc1[0][r] += load(cr + SGEMM_LANES);
            }
            store(cr, acc0[0][r]);
            store(cr + SGEMM_LANES, acc1[0][r]);
        } else {
            float block[SGEMM_NR];
            store(block, acc0[0][r]);
            store(block + SGEMM_LANES, acc1[0][r]);
            for (int j = 0; j < width; ++j) cr[j] = block[j] + (beta != 0.0f ? cr[j] : 0.0f);
        }
    }
}

using MicroKernel = void (*)(int, const float*, int, const float*, const float*, float, float*, int, int);

template <bool TRANS_A>
inline MicroKernel kernel_for(int rows) {
    static const MicroKernel table[9] = {
        nullptr,
        micro_kernel<1, TRANS_A>,
        micro_kernel<2, TRANS_A>,
        micro_kernel<3, TRANS_A>,
        micro_kernel<4, TRANS_A>,
        micro_kernel<5, TRANS_A>,
        micro_kernel<6, TRANS_A>,
        micro_kernel<7, TRANS_A>,
        micro_kernel<8, TRANS_A>,
    };
    static_assert(SGEMM_MR <= 8, "kernel_for's table holds blocks of up to 8 rows");
    return table[rows];
}

// Blocking for the caches: a task owns MC rows of C and one panel; it walks k in blocks of KC, so the
// KC x NR slice of the panel (32 KiB with AVX-512, 16 KiB with AVX2) stays in L1 and the MC x KC slice
// of A in L2 while the micro-kernel sweeps them, instead of both being streamed from memory for every
// row block.
constexpr int SGEMM_MC = 96;
constexpr int SGEMM_KC = 256;

// Copies rows rows0 .. rows0 + rows of op(A) = A^T (A stored k x m), columns k0 .. k0 + depth, into
// micro-panels of MR rows, each k-major (MR consecutive values per k, zero-padded): the layout the
// transposed-A micro-kernel reads with lda = MR.
inline void pack_rows(const float* a, int lda, int rows0, int rows, int k0, int depth, float* packed) {
    // Row kk of A is read once, contiguously, and dealt out to the micro-panels (reading each
    // micro-panel's 8 values from every row in turn touched a new cache line per read).
    const int full = rows / SGEMM_MR * SGEMM_MR;
    for (int kk = 0; kk < depth; ++kk) {
        const float* src = a + int64_t(k0 + kk) * lda + rows0;
        for (int block = 0; block < full; block += SGEMM_MR)
            std::memcpy(packed + int64_t(block) * depth + kk * SGEMM_MR, src + block, SGEMM_MR * sizeof(float));
        if (full < rows) {
            float* dst = packed + int64_t(full) * depth + kk * SGEMM_MR;
            for (int r = 0; r < SGEMM_MR; ++r) dst[r] = full + r < rows ? src[full + r] : 0.0f;
        }
    }
}

}  // namespace lstmkit
