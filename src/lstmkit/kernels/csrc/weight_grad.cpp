// The weight and bias gradients of a recurrent layer in one float32 GEMM:
//
//     [dW_ih | dW_hh] = D^T [x | h_prev],   db = D^T 1
//
// D (k x m) holds the errors on the gate pre-activations of every step and row (k = T * B rows, m
// gates), x (k x I) the layer's input and h_prev (k x P) the state entering each step: h0 for the
// first step's B rows, then the output of the step before (times the recurrent-dropout mask), which
// is the output shifted by one step. Gathering [x | h_prev] while packing saves building it in
// memory, the bias error is summed from the packed slices of D, and so one pass over D replaces three
// (two GEMMs and the bias sum).
//
// The shape is unlike the other products: k is the whole sequence (thousands), m and n a few hundred.
// So the loop is the classic one for a deep product: for each KC-deep slice of k, every thread packs
// the slice of the right-hand side once (it stays in L2) and runs its own rows of C against it; each
// thread owns whole rows of C, which therefore need no reduction and stay in its cache.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "blas.h"
#include "sgemm_micro.h"

namespace lstmkit {

namespace {

constexpr int DEEP_KC = 256;  // rows of k per slice: a 256 x 32 panel slice (32 KiB) fits L1

// The right-hand side [x | h_prev], row by row.
struct GradOperand {
    const float* x;
    int nx, ldx;
    const float* head;  // h0: the state entering the first head_rows rows
    const float* body;  // the output, read one step (head_rows rows) behind
    int nh, ldh, head_rows;
    const float* mask;  // (head_rows x nh) recurrent-dropout mask or null

    int n() const { return nx + nh; }
    int panels() const { return (n() + SGEMM_NR - 1) / SGEMM_NR; }

    // Rows k0 .. k0 + depth into panels of NR columns, each k-major (zero-padded past n). Each row
    // is gathered whole into ``row`` (panels * NR floats), then cut into its panels.
    void pack(int64_t k0, int depth, float* out, float* row) const {
        const int width = panels() * SGEMM_NR;
        std::fill(row + nx + nh, row + width, 0.0f);
        for (int kk = 0; kk < depth; ++kk) {
            const int64_t r = k0 + kk;
            if (nx) std::copy(x + r * ldx, x + r * ldx + nx, row);
            if (nh) {
                const float* h = r < head_rows ? head + r * ldh : body + (r - head_rows) * ldh;
                if (mask) {
                    const float* keep = mask + (r % head_rows) * nh;
                    for (int j = 0; j < nh; ++j) row[nx + j] = h[j] * keep[j];
                } else {
                    std::copy(h, h + nh, row + nx);
                }
            }
            for (int p = 0; p < panels(); ++p)
                std::copy(row + p * SGEMM_NR, row + (p + 1) * SGEMM_NR, out + (int64_t(p) * depth + kk) * SGEMM_NR);
        }
    }
};

// Adds the k-sums of a packed slice of D (rows rows0 .. rows0 + rows, micro-panels of MR rows) to ``sums``.
void add_row_sums(const float* packed, int rows, int depth, double* sums) {
    for (int block = 0; block < rows; block += SGEMM_MR) {
        const float* src = packed + int64_t(block) * depth;
        const int height = std::min(SGEMM_MR, rows - block);
        float partial[SGEMM_MR] = {};
        for (int kk = 0; kk < depth; ++kk)
            for (int r = 0; r < SGEMM_MR; ++r) partial[r] += src[kk * SGEMM_MR + r];
        for (int r = 0; r < height; ++r) sums[block + r] += partial[r];
    }
}

void weight_grad(int64_t k, int m, const float* d, int ldd, const GradOperand& rhs, float* c, int ldc,
                 float* bias_grad) {
    const int n = rhs.n(), panels = rhs.panels();
    if (m <= 0 || (n == 0 && !bias_grad)) return;
    std::vector<double> sums(bias_grad ? m : 0, 0.0);  // the bias error, summed in double over k
#pragma omp parallel
    {
        // Each thread's rows of C: a multiple of MR, as even as that allows.
        const int threads = omp_get_num_threads(), id = omp_get_thread_num();
        const int blocks = (m + SGEMM_MR - 1) / SGEMM_MR;
        const int row0 = std::min(m, blocks * id / threads * SGEMM_MR);
        const int row1 = std::min(m, blocks * (id + 1) / threads * SGEMM_MR);
        // Sized for this call, not for the largest blocks: a short sequence packs little.
        const int64_t deepest = std::min<int64_t>(DEEP_KC, k), tallest = std::min(SGEMM_MC, row1 - row0) + SGEMM_MR;
        std::vector<float> packed_rhs(panels * deepest * SGEMM_NR), packed_d(tallest * deepest);
        std::vector<float> row(int64_t(panels) * SGEMM_NR);
        for (int64_t k0 = 0; k0 < k && row0 < row1; k0 += DEEP_KC) {
            const int depth = int(std::min<int64_t>(DEEP_KC, k - k0));
            const float beta = k0 == 0 ? 0.0f : 1.0f;
            rhs.pack(k0, depth, packed_rhs.data(), row.data());
            for (int chunk = row0; chunk < row1; chunk += SGEMM_MC) {
                const int rows = std::min(SGEMM_MC, row1 - chunk);
                pack_rows(d + k0 * ldd, ldd, chunk, rows, 0, depth, packed_d.data());
                if (bias_grad) add_row_sums(packed_d.data(), rows, depth, sums.data() + chunk);
                for (int p = 0; p < panels; ++p) {
                    const int width = std::min(SGEMM_NR, n - p * SGEMM_NR);
                    const float* panel = packed_rhs.data() + int64_t(p) * depth * SGEMM_NR;
                    for (int block = 0; block < rows; block += SGEMM_MR) {
                        const int height = std::min(SGEMM_MR, rows - block);
                        kernel_for<true>(height)(depth, packed_d.data() + int64_t(block) * depth, SGEMM_MR, panel,
                                                 nullptr, beta, c + int64_t(chunk + block) * ldc + p * SGEMM_NR, ldc,
                                                 width);
                    }
                }
            }
        }
    }
    if (k == 0)  // no slice ran: nothing was written
        for (int r = 0; r < m; ++r) std::fill(c + int64_t(r) * ldc, c + int64_t(r) * ldc + n, 0.0f);
    for (int r = 0; r < m && bias_grad; ++r) bias_grad[r] = float(sums[r]);
}

}  // namespace

}  // namespace lstmkit

// C (m x (nx + nh)) = D^T [x | h_prev] and, when ``bias_grad`` (m values) is set, the sums of D's
// columns: see the top of this file. ``x`` or ``head`` may be null with nx or nh = 0 (a GRU takes the
// two sides with different errors).
LSTMKIT_API void lstmkit_weight_grad(int64_t k, int m, const float* d, int ldd, const float* x, int nx, int ldx,
                                     const float* head, const float* body, int nh, int ldh, int head_rows,
                                     const float* mask, float* c, int ldc, float* bias_grad) {
    const lstmkit::GradOperand rhs{x, nx, ldx, head, body, nh, ldh, head_rows, mask};
    lstmkit::weight_grad(k, m, d, ldd, rhs, c, ldc, bias_grad);
}
