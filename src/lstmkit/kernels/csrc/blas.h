// The matrix products of the time loops.
//
// Inside a loop every product is (running rows of the batch) x (a weight that is the same at every
// step), so the loops hold each weight as a StepWeight, prepared once per call. Float32 uses
// lstmkit's own packed GEMM (sgemm.h) by default; float64, and float32 when asked, call a Fortran
// BLAS ?gemm_ whose address the Python binding hands over at load time (torch's CPU library exports
// MKL's), or, without one, a portable loop.
#pragma once

#include <cstdint>
#include <memory>

#include "sgemm.h"

// The C entry points the Python binding loads; everything else stays hidden inside the library.
#define LSTMKIT_API extern "C" __attribute__((visibility("default")))

namespace lstmkit {

using sgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                          const int*, const float*, const int*, const float*, float*, const int*);
using dgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const double*, const double*,
                          const int*, const double*, const int*, const double*, double*, const int*);

struct Blas {
    sgemm_fn sgemm = nullptr;
    dgemm_fn dgemm = nullptr;
    bool own_sgemm = true;  // float32 products on lstmkit's packed GEMM rather than sgemm_
};

Blas& blas();

void gemm(char transa, char transb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc);
void gemm(char transa, char transb, int m, int n, int k, double alpha, const double* a, int lda, const double* b,
          int ldb, double beta, double* c, int ldc);

// A weight that multiplies the running rows at every step: out (rows x cols) = in (rows x inner) op(W)
// + beta out, all row-major as torch stores them. ``transposed``: W is stored (cols x inner) and
// op(W) = W^T (how x W_ih^T and h W_hh^T use torch's weights); otherwise W is (inner x cols).
template <typename S>
class StepWeight {
public:
    // ``w`` may be null for an absent weight (no projection); apply() is then never called.
    StepWeight(const S* w, int inner, int cols, bool transposed)
        : w_(w), inner_(inner), cols_(cols), transposed_(transposed) {
        if constexpr (sizeof(S) == sizeof(float)) {
            if (w && blas().own_sgemm) packed_ = std::make_unique<PackedWeight>(w, inner, cols, transposed);
        }
    }

    void apply(int64_t rows, const S* in, int ld_in, S beta, S* out, int ld_out) const {
        if (rows == 0) return;
        if constexpr (sizeof(S) == sizeof(float)) {
            if (packed_) {
                sgemm_packed(static_cast<int>(rows), in, ld_in, false, *packed_, beta, out, ld_out);
                return;
            }
        }
        // Column-major BLAS sees each row-major matrix transposed: out^T = op(W)^T in^T.
        gemm(transposed_ ? 'T' : 'N', 'N', cols_, static_cast<int>(rows), inner_, S(1), w_,
             transposed_ ? inner_ : cols_, in, ld_in, beta, out, ld_out);
    }

private:
    const S* w_;
    int inner_, cols_;
    bool transposed_;
    std::unique_ptr<PackedWeight> packed_;
};

}  // namespace lstmkit
