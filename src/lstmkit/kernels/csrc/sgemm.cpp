#include "sgemm.h"

#include "blas.h"
#include "parallel.h"
#include "sgemm_micro.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

namespace lstmkit {

PackedWeight::PackedWeight(const float* w, int k, int n, bool transposed, const float* bias) : k_(k), n_(n) {
    if (bias) {
        bias_.assign(int64_t(panels()) * SGEMM_NR, 0.0f);
        std::copy(bias, bias + n, bias_.begin());
    }
    data_.assign(int64_t(panels()) * k * SGEMM_NR, 0.0f);  // the last panel is zero-padded
    for (int p = 0; p < panels(); ++p) {
        float* dst = data_.data() + int64_t(p) * k * SGEMM_NR;
        const int width = std::min(SGEMM_NR, n - p * SGEMM_NR);
        for (int kk = 0; kk < k; ++kk)
            for (int j = 0; j < width; ++j) {
                const int col = p * SGEMM_NR + j;
                dst[int64_t(kk) * SGEMM_NR + j] = transposed ? w[int64_t(col) * k + kk] : w[int64_t(kk) * n + col];
            }
    }
}

// Tall products (the whole-sequence GEMMs): threads take chunks of rows and run each against every
// panel. A transposed A is first packed, once per chunk and k block, into micro-panels (a plain A is
// read in place: its rows are already contiguous in k).
static void sgemm_tall(int m, const float* a, int lda, bool a_transposed, const PackedWeight& w, float beta,
                       float* c, int ldc) {
    // Chunks of at most MC rows, as many as keeps every thread equally busy.
    const auto ceil_div = [](int x, int y) { return (x + y - 1) / y; };
    const int per_thread = ceil_div(m, omp_get_max_threads());
    const int mc = ceil_div(ceil_div(per_thread, ceil_div(per_thread, SGEMM_MC)), SGEMM_MR) * SGEMM_MR;
    const int chunks = ceil_div(m, mc);
#pragma omp parallel if (!omp_in_parallel())  // inside run_calls: the caller's one thread
    {
        std::vector<float> packed(a_transposed ? int64_t(mc + SGEMM_MR) * SGEMM_KC : 0);
#pragma omp for schedule(static)
        for (int chunk = 0; chunk < chunks; ++chunk) {
            const int row0 = chunk * mc, rows = std::min(mc, m - row0);
            for (int k0 = 0; k0 < w.k(); k0 += SGEMM_KC) {
                const int depth = std::min(SGEMM_KC, w.k() - k0);
                const float block_beta = k0 == 0 ? beta : 1.0f;  // later k blocks add to what the first wrote
                if (a_transposed) pack_rows(a, lda, row0, rows, k0, depth, packed.data());
                for (int p = 0; p < w.panels(); ++p) {
                    const int width = std::min(SGEMM_NR, w.n() - p * SGEMM_NR);
                    const float* panel = w.panel(p) + int64_t(k0) * SGEMM_NR;
                    const float* bias = k0 == 0 ? w.bias(p) : nullptr;
                    for (int block = 0; block < rows; block += SGEMM_MR) {
                        const int height = std::min(SGEMM_MR, rows - block);
                        float* c_block = c + int64_t(row0 + block) * ldc + p * SGEMM_NR;
                        if (a_transposed) {
                            kernel_for<true>(height)(depth, packed.data() + int64_t(block) * depth, SGEMM_MR, panel,
                                                     bias, block_beta, c_block, ldc, width);
                        } else {
                            kernel_for<false>(height)(depth, a + int64_t(row0 + block) * lda + k0, lda, panel, bias,
                                                      block_beta, c_block, ldc, width);
                        }
                    }
                }
            }
        }
    }
}

// Short products (the steps of a loop: a few rows of the batch): threads take panels of W, and A is
// read in place (it is small and the next step's A depends on this step's C).
static void sgemm_short(int m, const float* a, int lda, const PackedWeight& w, float beta, float* c, int ldc) {
    const int panels = w.panels();
    // Threads pay off from a few hundred thousand multiply-adds: waking one costs microseconds.
    const bool threaded = panels > 1 && int64_t(m) * w.n() * w.k() >= (1 << 18);
    parallel_for(panels, threaded, [&](int64_t panel_index) {
        const int p = int(panel_index);
        const int width = std::min(SGEMM_NR, w.n() - p * SGEMM_NR);
        for (int k0 = 0; k0 < w.k(); k0 += SGEMM_KC) {
            const int depth = std::min(SGEMM_KC, w.k() - k0);
            const float* panel = w.panel(p) + int64_t(k0) * SGEMM_NR;
            const float block_beta = k0 == 0 ? beta : 1.0f;
            const float* bias = k0 == 0 ? w.bias(p) : nullptr;
            for (int row = 0; row < m; row += SGEMM_MR) {
                const int rows = std::min(SGEMM_MR, m - row);
                kernel_for<false>(rows)(depth, a + int64_t(row) * lda + k0, lda, panel, bias, block_beta,
                                        c + int64_t(row) * ldc + p * SGEMM_NR, ldc, width);
            }
        }
    });
}

void sgemm_packed(int m, const float* a, int lda, bool a_transposed, const PackedWeight& w, float beta, float* c,
                  int ldc) {
    if (m <= 0) return;
    if (a_transposed || m >= 2 * SGEMM_MC) {
        sgemm_tall(m, a, lda, a_transposed, w, beta, c, ldc);
    } else {
        sgemm_short(m, a, lda, w, beta, c, ldc);
    }
}

}  // namespace lstmkit

// C (m x n) = op(A) op(W) + beta C for the whole-sequence products the Python binding does around the
// loops (input projection, dx, dW): W is packed for this one call.
// With ``bias`` (n values), C = op(A) op(W) + bias (+ beta C).
LSTMKIT_API void lstmkit_sgemm(int m, int n, int k, const float* a, int lda, int a_transposed, const float* w,
                               int w_transposed, const float* bias, float beta, float* c, int ldc) {
    const lstmkit::PackedWeight packed(w, k, n, w_transposed != 0, bias);
    lstmkit::sgemm_packed(m, a, lda, a_transposed != 0, packed, beta, c, ldc);
}
