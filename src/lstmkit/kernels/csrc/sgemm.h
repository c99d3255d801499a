// lstmkit's own single-precision GEMM for the time loops: C (m x n) = A (m x k) op(W) + beta C, row-major.
//
// The weight is the same at every step of a sequence, so it is packed once per call into panels of
// NR columns laid out k-major (what the micro-kernel streams), and every step reuses the panels.
// The micro-kernel keeps an MR x NR block of C in vector registers and does rank-1 updates over k:
// MR broadcasts of A and two vector loads of W per k. Written with GCC vector extensions in the build
// machine's widest vectors (AVX-512, AVX2 or SSE), with a block that fits its register file: the
// accumulators must stay in registers, or every update spills to memory (an AVX-512 block built for
// AVX2 ran 25 times slower than MKL). (Torch's MKL takes a generic code path on non-Intel processors;
// this kernel does not care.)
#pragma once

#include <cstdint>
#include <vector>

namespace lstmkit {

#if defined(__AVX512F__)
constexpr int SGEMM_LANES = 16;  // floats per vector register
constexpr int SGEMM_MR = 8;      // rows of C per micro-kernel call: 16 of the 32 registers accumulate
#elif defined(__AVX__)
constexpr int SGEMM_LANES = 8;
constexpr int SGEMM_MR = 6;  // 12 of the 16 registers accumulate, the rest hold W's row and A's broadcast
#else
constexpr int SGEMM_LANES = 4;
constexpr int SGEMM_MR = 6;
#endif
constexpr int SGEMM_NR = 2 * SGEMM_LANES;  // columns per packed panel: two vectors

// op(W) is (k x n). ``transposed``: W is stored (n x k) row-major, as torch stores a weight that
// multiplies from the right as W^T (x W^T); otherwise W is (k x n) row-major.
class PackedWeight {
public:
    PackedWeight() = default;
    // ``bias`` (n values, optional) is added to every row of the product.
    PackedWeight(const float* w, int k, int n, bool transposed, const float* bias = nullptr);
    int k() const { return k_; }
    int n() const { return n_; }
    const float* panel(int p) const { return data_.data() + int64_t(p) * k_ * SGEMM_NR; }
    int panels() const { return (n_ + SGEMM_NR - 1) / SGEMM_NR; }
    const float* bias(int p) const { return bias_.empty() ? nullptr : bias_.data() + int64_t(p) * SGEMM_NR; }

private:
    int k_ = 0, n_ = 0;
    std::vector<float> data_, bias_;
};

// C (m x n, leading dimension ldc) = op(A) op(W) + beta * C, beta 0 or 1. op(A) is (m x k): A itself
// (row r at a + r * lda) or, with ``a_transposed``, A stored (k x m) (column r at a + r, rows lda apart).
void sgemm_packed(int m, const float* a, int lda, bool a_transposed, const PackedWeight& w, float beta, float* c,
                  int ldc);

}  // namespace lstmkit
