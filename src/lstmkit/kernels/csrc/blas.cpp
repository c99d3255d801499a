#include "blas.h"

namespace lstmkit {

Blas& blas() {
    static Blas instance;
    return instance;
}

template <typename S>
static void portable_gemm(char transa, char transb, int m, int n, int k, S alpha, const S* a, int lda, const S* b, int ldb,
                   S beta, S* c, int ldc) {
    // Column j of C is a combination of the columns of op(A): loop order keeps the innermost loop on contiguous memory.
    for (int j = 0; j < n; ++j) {
        S* cj = c + static_cast<int64_t>(j) * ldc;
        if (beta == S(0)) {
            for (int i = 0; i < m; ++i) cj[i] = S(0);
        } else if (beta != S(1)) {
            for (int i = 0; i < m; ++i) cj[i] *= beta;
        }
        for (int p = 0; p < k; ++p) {
            S bpj = alpha * (transb == 'N' ? b[p + static_cast<int64_t>(j) * ldb] : b[j + static_cast<int64_t>(p) * ldb]);
            if (transa == 'N') {
                const S* ap = a + static_cast<int64_t>(p) * lda;
                for (int i = 0; i < m; ++i) cj[i] += ap[i] * bpj;
            } else {
                for (int i = 0; i < m; ++i) cj[i] += a[p + static_cast<int64_t>(i) * lda] * bpj;
            }
        }
    }
}

template <typename S>
static void transposed_a_gemm(int m, int n, int k, S alpha, const S* a, int lda, const S* b, int ldb, S beta, S* c,
                              int ldc) {
    // op(A) = A^T, op(B) = B: each entry is a dot product of two contiguous columns.
    for (int j = 0; j < n; ++j) {
        const S* bj = b + static_cast<int64_t>(j) * ldb;
        for (int i = 0; i < m; ++i) {
            const S* ai = a + static_cast<int64_t>(i) * lda;
            S sum = 0;
            for (int p = 0; p < k; ++p) sum += ai[p] * bj[p];
            S* cij = c + i + static_cast<int64_t>(j) * ldc;
            *cij = alpha * sum + (beta == S(0) ? S(0) : beta * *cij);
        }
    }
}

template <typename S>
static void fallback(char transa, char transb, int m, int n, int k, S alpha, const S* a, int lda, const S* b, int ldb,
                     S beta, S* c, int ldc) {
    if (transa == 'T' && transb == 'N') {
        transposed_a_gemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else {
        portable_gemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}

void gemm(char transa, char transb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc) {
    if (blas().sgemm) {
        blas().sgemm(&transa, &transb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
    } else {
        fallback(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}

void gemm(char transa, char transb, int m, int n, int k, double alpha, const double* a, int lda, const double* b,
          int ldb, double beta, double* c, int ldc) {
    if (blas().dgemm) {
        blas().dgemm(&transa, &transb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
    } else {
        fallback(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}

}  // namespace lstmkit

// Hand the kernels a BLAS (the addresses of ?gemm_, or nullptr for the portable loops), and say whether
// float32 products use lstmkit's own packed GEMM.
LSTMKIT_API void lstmkit_set_blas(void* sgemm, void* dgemm, int own_sgemm) {
    lstmkit::blas().sgemm = reinterpret_cast<lstmkit::sgemm_fn>(sgemm);
    lstmkit::blas().dgemm = reinterpret_cast<lstmkit::dgemm_fn>(dgemm);
    lstmkit::blas().own_sgemm = own_sgemm != 0;
}

LSTMKIT_API int lstmkit_kernels_abi_version() { return 5; }
