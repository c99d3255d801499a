// The one matrix product the time loops need, C = alpha * op(A) op(B) + beta * C (column-major, as BLAS).
//
// The fast path is a Fortran BLAS ?gemm_ whose address the Python binding hands over at load time
// (torch's CPU library exports MKL's); without one, a portable blocked loop computes the same product.
#pragma once

#include <cstdint>

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
};

Blas& blas();

void gemm(char transa, char transb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc);
void gemm(char transa, char transb, int m, int n, int k, double alpha, const double* a, int lda, const double* b,
          int ldb, double beta, double* c, int ldc);

// Row-major helpers, in the layout of torch tensors (rows = batch).
// out (rows, cols) = beta * out + in (rows, inner) @ w^T, with w (cols, inner) row-major (torch's weight layout).
template <typename S>
inline void rows_times_weight_t(int rows, int cols, int inner, const S* in, int ld_in, const S* w, S beta, S* out,
                                int ld_out) {
    if (rows == 0) return;
    gemm('T', 'N', cols, rows, inner, S(1), w, inner, in, ld_in, beta, out, ld_out);
}

// out (rows, cols) = in (rows, inner) @ w, with w (inner, cols) row-major.
template <typename S>
inline void rows_times_weight(int rows, int cols, int inner, const S* in, int ld_in, const S* w, S beta, S* out,
                              int ld_out) {
    if (rows == 0) return;
    gemm('N', 'N', cols, rows, inner, S(1), w, cols, in, ld_in, beta, out, ld_out);
}

}  // namespace lstmkit
