// One time step of a whole unidirectional stack (every layer in one call), for streaming inference.
//
// Streaming runs one step at batch 1-8, where a ctypes call costs as much as the arithmetic: so one
// call advances every layer, reading the weights of layer l from a table of pointers, a fixed number
// of entries per layer (null for an absent bias or projection). The weights are pre-packed
// transposed, (inner, width) row-major, so that at a small batch the products are axpy passes over
// contiguous rows of the weight, which vectorise without the horizontal sums of dot products (and
// without BLAS's call and threading overhead, which dominates a product this small).
//
// The state is updated in place in the layout of torch's ``hx`` for one direction: h (L, B, P),
// c (L, B, H); layer l reads layer l-1's new h as its input, and the top layer's new h is copied to
// ``out`` (when given). ``work`` holds the pre-activations, so a step allocates nothing. No batch
// shrinking, no dropout, no records: inference only.
#include "common.h"
#include "gru_gates.h"
#include "lstm_gates.h"

namespace lstmkit {

// Up to this batch the products run on the axpy loop below; beyond it BLAS's blocked GEMM is faster.
constexpr int kSmallBatch = 8;

template <typename S>
static inline const S* weight(const void* const* table, int index) {
    return static_cast<const S*>(table[index]);
}

// out (rows, width) += in (rows, inner) @ wt, wt (inner, width) with rows ``ld`` apart: four rows of
// wt per pass, so each out element is loaded and stored once per four multiply-adds.
template <typename S>
static void accumulate_small(int rows, int width, int inner, const S* in, const S* wt, int ld, S* out) {
    int k = 0;
    for (; k + 4 <= inner; k += 4) {
        const S* w0 = wt + int64_t(k) * ld;
        const S* w1 = w0 + ld;
        const S* w2 = w1 + ld;
        const S* w3 = w2 + ld;
        for (int b = 0; b < rows; ++b) {
            const S* x = in + int64_t(b) * inner + k;
            const S x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
            S* o = out + int64_t(b) * width;
#pragma omp simd
            for (int j = 0; j < width; ++j) o[j] += x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j];
        }
    }
    for (; k < inner; ++k) {
        const S* w0 = wt + int64_t(k) * ld;
        for (int b = 0; b < rows; ++b) {
            const S x0 = in[int64_t(b) * inner + k];
            S* o = out + int64_t(b) * width;
#pragma omp simd
            for (int j = 0; j < width; ++j) o[j] += x0 * w0[j];
        }
    }
}

// out (rows, width) += in (rows, inner) @ wt, wt (inner, width) with rows ``ld`` apart.
template <typename S>
static void accumulate(int rows, int width, int inner, const S* in, const S* wt, int ld, S* out) {
    if (rows <= kSmallBatch) {
        accumulate_small<S>(rows, width, inner, in, wt, ld, out);
    } else {
        gemm('N', 'N', width, rows, inner, S(1), wt, ld, in, inner, S(1), out, width);  // column-major view
    }
}

// out (rows, width) = bias (or zero) + in (rows, inner) @ wt, wt (inner, width) with rows ``ld`` apart.
template <typename S>
static void affine(int rows, int width, int inner, const S* in, const S* wt, int ld, const S* bias, S* out) {
    for (int b = 0; b < rows; ++b)
        for (int j = 0; j < width; ++j) out[int64_t(b) * width + j] = bias ? bias[j] : S(0);
    accumulate<S>(rows, width, inner, in, wt, ld, out);
}

template <typename S>
static void copy_out(const S* top, int64_t count, S* out) {
    if (out)
        for (int64_t i = 0; i < count; ++i) out[i] = top[i];
}

// Table per layer: W_ih^T (I_l, 4H), W_hh^T (P, 4H), bias = b_ih + b_hh (4H) or null, W_hr^T (H, P) or null.
// work: (B, 4H) pre-activations, then (B, H) for o * tanh(c) before the projection.
template <typename S>
static void lstm_step(int L, int B, int I, int H, int P, const void* const* table, S* h, S* c, S* work, const S* x,
                      S* out) {
    const int G = 4 * H;
    S* pre = work;
    S* h_cell = work + int64_t(B) * G;
    const S* in = x;
    int in_size = I;
    for (int l = 0; l < L; ++l) {
        const void* const* w = table + 4 * l;
        const S* w_hr = weight<S>(w, 3);
        S* h_l = h + int64_t(l) * B * P;
        S* c_l = c + int64_t(l) * B * H;
        affine<S>(B, G, in_size, in, weight<S>(w, 0), G, weight<S>(w, 2), pre);
        accumulate<S>(B, G, P, h_l, weight<S>(w, 1), G, pre);
        // Without a projection h' goes straight into the state: its old value was read by the product above.
        S* h_new = w_hr ? h_cell : h_l;
        for (int b = 0; b < B; ++b)
            lstm_gate_row<S, false>(H, pre + int64_t(b) * G, c_l + int64_t(b) * H, h_new + int64_t(b) * H, nullptr,
                                    nullptr);
        if (w_hr) affine<S>(B, P, H, h_cell, w_hr, P, nullptr, h_l);
        in = h_l;
        in_size = P;
    }
    copy_out(in, int64_t(B) * P, out);
}

// Table per layer: W_ih^T (I_l, 3H), W_hh^T (H, 3H), b_ih (3H) or null, b_hh (3H) or null.
// work: (B, 3H) input part, (B, 3H) recurrent part, (B, H) r * h (reset-before form).
template <typename S>
static void gru_step(int L, int B, int I, int H, int reset_after, const void* const* table, S* h, S* work,
                     const S* x, S* out) {
    const int G = 3 * H;
    S* xg = work;
    S* hg = work + int64_t(B) * G;
    S* rh = hg + int64_t(B) * G;
    const S* in = x;
    int in_size = I;
    for (int l = 0; l < L; ++l) {
        const void* const* w = table + 4 * l;
        const S* wt_hh = weight<S>(w, 1);
        const S* b_hh = weight<S>(w, 3);
        S* h_l = h + int64_t(l) * B * H;
        affine<S>(B, G, in_size, in, weight<S>(w, 0), G, weight<S>(w, 2), xg);
        if (reset_after) {
            // n = tanh(x_n + r * (W_hn h + b_hn)): the recurrent part of n stays apart from the input part.
            affine<S>(B, G, H, h_l, wt_hh, G, b_hh, hg);
            for (int b = 0; b < B; ++b) {
                const S* xr = xg + int64_t(b) * G;
                const S* hr = hg + int64_t(b) * G;
                S* h_row = h_l + int64_t(b) * H;
#pragma omp simd
                for (int j = 0; j < H; ++j)
                    h_row[j] =
                        gru_reset_after(xr[j], xr[H + j], xr[2 * H + j], hr[j], hr[H + j], hr[2 * H + j], h_row[j]).h;
            }
        } else {
            // n = tanh(x_n + W_hn (r * h) + b_hn): r is needed before the candidate's product.
            affine<S>(B, 2 * H, H, h_l, wt_hh, G, b_hh, hg);
            for (int b = 0; b < B; ++b) {
                S* xr = xg + int64_t(b) * G;
                const S* hr = hg + int64_t(b) * 2 * H;
                const S* h_row = h_l + int64_t(b) * H;
#pragma omp simd
                for (int j = 0; j < H; ++j) {
                    const GRUUnit<S> u = gru_reset_before_gates(xr[j], xr[H + j], hr[j], hr[H + j]);
                    rh[int64_t(b) * H + j] = u.r * h_row[j];
                    xr[H + j] = u.z;  // kept for the update below
                }
            }
            affine<S>(B, H, H, rh, wt_hh + 2 * H, G, b_hh ? b_hh + 2 * H : nullptr, hg);
            for (int b = 0; b < B; ++b) {
                const S* xr = xg + int64_t(b) * G;
                const S* hn = hg + int64_t(b) * H;
                S* h_row = h_l + int64_t(b) * H;
#pragma omp simd
                for (int j = 0; j < H; ++j)
                    h_row[j] = gru_reset_before_update(xr[H + j], xr[2 * H + j], hn[j], h_row[j]).h;
            }
        }
        in = h_l;
        in_size = H;
    }
    copy_out(in, int64_t(B) * H, out);
}

// Table per layer: W_ih^T (I_l, H), W_hh^T (H, H), bias = b_ih + b_hh (H) or null. work: (B, H).
template <typename S>
static void rnn_step(int L, int B, int I, int H, int relu, const void* const* table, S* h, S* work, const S* x,
                     S* out) {
    const S* in = x;
    int in_size = I;
    for (int l = 0; l < L; ++l) {
        const void* const* w = table + 3 * l;
        S* h_l = h + int64_t(l) * B * H;
        affine<S>(B, H, in_size, in, weight<S>(w, 0), H, weight<S>(w, 2), work);
        accumulate<S>(B, H, H, h_l, weight<S>(w, 1), H, work);
        const int64_t n = int64_t(B) * H;
        if (relu) {
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) h_l[i] = work[i] > S(0) ? work[i] : S(0);
        } else {
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) h_l[i] = tanh_(work[i]);
        }
        in = h_l;
        in_size = H;
    }
    copy_out(in, int64_t(B) * H, out);
}

}  // namespace lstmkit

// Arguments: sizes, the per-layer flag (LSTM: P, the projected size; GRU: reset_after; RNN: relu), the
// weight table, the state and work buffers, then the step's input x (B, I) and ``out`` (B, P) or null.
#define LSTMKIT_STEP_ENTRY(S, suffix)                                                                            \
    LSTMKIT_API void lstmkit_lstm_step_##suffix(int L, int B, int I, int H, int P, const void* const* table, S* h, \
                                                S* c, S* work, const S* x, S* out) {                             \
        lstmkit::lstm_step<S>(L, B, I, H, P, table, h, c, work, x, out);                                         \
    }                                                                                                            \
    LSTMKIT_API void lstmkit_gru_step_##suffix(int L, int B, int I, int H, int reset_after,                       \
                                               const void* const* table, S* h, S* work, const S* x, S* out) {    \
        lstmkit::gru_step<S>(L, B, I, H, reset_after, table, h, work, x, out);                                   \
    }                                                                                                            \
    LSTMKIT_API void lstmkit_rnn_step_##suffix(int L, int B, int I, int H, int relu, const void* const* table,    \
                                               S* h, S* work, const S* x, S* out) {                              \
        lstmkit::rnn_step<S>(L, B, I, H, relu, table, h, work, x, out);                                          \
    }

LSTMKIT_STEP_ENTRY(float, f32)
LSTMKIT_STEP_ENTRY(double, f64)
