// GRU time loop, forward and backward, in both forms of the candidate:
//   reset_after (torch/cuDNN): n = tanh(x_n + r * (W_hn h + b_hn)), one GEMM per step;
//   reset before (Cho et al. 2014): n = tanh(x_n + W_hn (r * h) + b_hn), two GEMMs per step.
// Then h' = (1 - z) n + z h. ``gates`` holds W_ih x_t + b_ih on entry and the activated r, z, n on exit.
// With zoneout (zoneout.h), h' is then mixed with the previous h, and its error split the same way.
#include "common.h"
#include "gru_gates.h"
#include "zoneout.h"

namespace lstmkit {

// hh (rows, width) = bias (or 0) + in W^T, ``width`` the weight's output size.
template <typename S>
static void recurrent_projection(int64_t rows, int width, int inner, const S* in, const StepWeight<S>& w,
                                 const S* bias, S* hh) {
    for (int64_t b = 0; b < rows; ++b)
        for (int j = 0; j < width; ++j) hh[b * width + j] = bias ? bias[j] : S(0);
    w.apply(rows, in, inner, S(1), hh, width);
}

template <typename S>
static void gru_forward(int T, int B, int H, int reset_after, const int64_t* batch_sizes, S* gates, const S* w_hh,
                        const S* b_hh, const S* rmask, S* h, S* hh_n, S* output, S* work, const S* h0,
                        Zoneout<S> zoneout) {
    const int G = 3 * H;
    S* hh = work;                              // (B, 3H) recurrent pre-activations (2H used when reset before)
    S* h_in_scratch = work + int64_t(B) * G;   // (B, H)
    S* rh = h_in_scratch + int64_t(B) * H;     // (B, H): r * h_in, reset-before form only
    // reset_after: all three blocks of W_hh at once; reset before: W_hr,z first, W_hn after r is known.
    const StepWeight<S> gates_weight(w_hh, H, reset_after ? G : 2 * H, true);
    const StepWeight<S> candidate_weight(w_hh + int64_t(2) * H * H, H, H, true);
    for (int t = 0; t < T; ++t) {
        const int64_t n = active_rows(batch_sizes, t, B);
        if (n == 0) continue;
        S* x_t = gates + int64_t(t) * B * G;
        S* out_t = output + int64_t(t) * B * H;
        const S* h_in = masked(h, rmask, n, H, h_in_scratch);
        recurrent_projection<S>(n, reset_after ? G : 2 * H, H, h_in, gates_weight, b_hh, hh);
        const int hh_width = reset_after ? G : 2 * H;
        if (reset_after) {
            S* hh_n_t = hh_n + int64_t(t) * B * H;
            parallel_for(n, worth_threads(n, G), [&](int64_t b) {
                S* x = x_t + b * G;
                const S* p = hh + b * hh_width;
#pragma omp simd
                for (int j = 0; j < H; ++j) {
                    const GRUUnit<S> u = gru_reset_after(x[j], x[H + j], x[2 * H + j], p[j], p[H + j], p[2 * H + j],
                                                         h[b * H + j]);
                    x[j] = u.r;
                    x[H + j] = u.z;
                    x[2 * H + j] = u.n;
                    hh_n_t[b * H + j] = p[2 * H + j];
                    out_t[b * H + j] = u.h;
                }
            });
        } else {
            for (int64_t b = 0; b < n; ++b) {
                S* x = x_t + b * G;
                const S* p = hh + b * hh_width;
#pragma omp simd
                for (int j = 0; j < H; ++j) {
                    const GRUUnit<S> u = gru_reset_before_gates(x[j], x[H + j], p[j], p[H + j]);
                    x[j] = u.r;
                    x[H + j] = u.z;
                    rh[b * H + j] = u.r * h_in[b * H + j];
                }
            }
            S* cand_pre = hh;  // reuse: (B, H) = b_hn + (r * h_in) W_hn^T
            recurrent_projection<S>(n, H, H, rh, candidate_weight, b_hh ? b_hh + 2 * H : nullptr, cand_pre);
            for (int64_t b = 0; b < n; ++b) {
                S* x = x_t + b * G;
#pragma omp simd
                for (int j = 0; j < H; ++j) {
                    const GRUUnit<S> u =
                        gru_reset_before_update(x[H + j], x[2 * H + j], cand_pre[b * H + j], h[b * H + j]);
                    x[2 * H + j] = u.n;
                    out_t[b * H + j] = u.h;
                }
            }
        }
        for (int64_t i = 0; i < n * H; ++i) h[i] = out_t[i];
        for (int64_t i = n * G; i < int64_t(B) * G; ++i) x_t[i] = S(0);  // finished rows: no gates
        if (zoneout.active()) zoneout.forward(t, B, n, 0, H, t > 0 ? output + int64_t(t - 1) * B * H : h0, out_t, h);
    }
}

template <typename S>
static void gru_backward(int T, int B, int H, int reset_after, const int64_t* batch_sizes, const S* gates,
                         const S* hh_n, const S* h0, const S* output, const S* w_hh, const S* rmask,
                         const S* d_output, S* dh, S* d_pre, S* d_recurrent, S* work, Zoneout<S> zoneout) {
    const int G = 3 * H;
    S* dh_step = work;                           // (B, H)
    S* d_rh = work + int64_t(B) * H;             // (B, H): error on r * h_in (reset before)
    const StepWeight<S> gates_weight(w_hh, reset_after ? G : 2 * H, H, false);
    const StepWeight<S> candidate_weight(w_hh + int64_t(2) * H * H, H, H, false);
    S* carry = d_rh + int64_t(B) * H;            // (B, H): zoned-out share of the error on h
    for (int t = T - 1; t >= 0; --t) {
        const int64_t n = active_rows(batch_sizes, t, B);
        if (n == 0) continue;
        const S* d_out_t = d_output + int64_t(t) * B * H;
        for (int64_t i = 0; i < n * H; ++i) dh_step[i] = dh[i] + d_out_t[i];
        if (zoneout.active()) zoneout.split_error(t, B, n, 0, H, dh_step, carry);
        const S* gate_t = gates + int64_t(t) * B * G;
        const S* h_prev = t > 0 ? output + int64_t(t - 1) * B * H : h0;
        S* d_t = d_pre + int64_t(t) * B * G;
        if (reset_after) {
            const S* hh_n_t = hh_n + int64_t(t) * B * H;
            S* d_hh = d_recurrent + int64_t(t) * B * G;  // the error on W_hh h + b_hh, kept for dW_hh
            parallel_for(n, worth_threads(n, G), [&](int64_t b) {
                const S* g = gate_t + b * G;
                S* d = d_t + b * G;
                S* dr = d_hh + b * G;
#pragma omp simd
                for (int j = 0; j < H; ++j) {
                    S r = g[j], z = g[H + j], cand = g[2 * H + j], dhs = dh_step[b * H + j];
                    S d_cand = dhs * (S(1) - z) * (S(1) - cand * cand);
                    S d_r = d_cand * hh_n_t[b * H + j] * r * (S(1) - r);
                    S d_z = dhs * (h_prev[b * H + j] - cand) * z * (S(1) - z);
                    d[j] = d_r;
                    d[H + j] = d_z;
                    d[2 * H + j] = d_cand;
                    dr[j] = d_r;
                    dr[H + j] = d_z;
                    dr[2 * H + j] = d_cand * r;
                }
            });
            gates_weight.apply(n, d_hh, G, S(0), dh, H);
            for (int64_t b = 0; b < n; ++b) {
                const S* z = gate_t + b * G + H;
                const S* keep = rmask ? rmask + b * H : nullptr;
                S* dh_row = dh + b * H;
                const S* dhs = dh_step + b * H;
#pragma omp simd
                for (int j = 0; j < H; ++j) dh_row[j] = (keep ? dh_row[j] * keep[j] : dh_row[j]) + dhs[j] * z[j];
            }
        } else {
            for (int64_t b = 0; b < n; ++b) {
                const S* g = gate_t + b * G;
                S* d = d_t + b * G;
#pragma omp simd
                for (int j = 0; j < H; ++j) {
                    S z = g[H + j], cand = g[2 * H + j], dhs = dh_step[b * H + j];
                    d[2 * H + j] = dhs * (S(1) - z) * (S(1) - cand * cand);
                    d[H + j] = dhs * (h_prev[b * H + j] - cand) * z * (S(1) - z);
                }
            }
            // d(r * h_in) = d_cand W_hn; then r's error, and h_in's error through r * h_in.
            candidate_weight.apply(n, d_t + 2 * H, G, S(0), d_rh, H);
            for (int64_t b = 0; b < n; ++b) {
                const S* g = gate_t + b * G;
                S* d = d_t + b * G;
#pragma omp simd
                for (int j = 0; j < H; ++j) {
                    S r = g[j];
                    S h_in = rmask ? h_prev[b * H + j] * rmask[b * H + j] : h_prev[b * H + j];
                    d[j] = d_rh[b * H + j] * h_in * r * (S(1) - r);
                }
            }
            gates_weight.apply(n, d_t, G, S(0), dh, H);
            for (int64_t b = 0; b < n; ++b) {
                const S* g = gate_t + b * G;
                const S* keep = rmask ? rmask + b * H : nullptr;
                S* dh_row = dh + b * H;
#pragma omp simd
                for (int j = 0; j < H; ++j) {
                    S through_h_in = dh_row[j] + d_rh[b * H + j] * g[j];
                    dh_row[j] = (keep ? through_h_in * keep[j] : through_h_in) + dh_step[b * H + j] * g[H + j];
                }
            }
        }
        if (zoneout.active()) add_carry(n * H, carry, dh);
    }
}

// One loop's arguments, as the binding lays them out (_library.CALLS; see LSTMForwardCall in lstm.cpp).
struct GRUForwardCall {
    int T, B, H, reset_after;
    const int64_t* batch_sizes;
    void *gates, *w_hh, *b_hh, *rmask, *h, *hh_n, *output, *work, *h0;
    const uint8_t* zoneout_mask;
    double zoneout_p;
};

struct GRUBackwardCall {
    int T, B, H, reset_after;
    const int64_t* batch_sizes;
    void *gates, *hh_n, *h0, *output, *w_hh, *rmask, *d_output, *dh, *d_pre, *d_rec, *work;
    const uint8_t* zoneout_mask;
    double zoneout_p;
};

template <typename S>
static void gru_forward_call(const GRUForwardCall& a) {
    auto p = [](void* q) { return static_cast<S*>(q); };
    gru_forward<S>(a.T, a.B, a.H, a.reset_after, a.batch_sizes, p(a.gates), p(a.w_hh), p(a.b_hh), p(a.rmask), p(a.h),
                   p(a.hh_n), p(a.output), p(a.work), p(a.h0), {a.zoneout_mask, a.H, S(a.zoneout_p)});
}

template <typename S>
static void gru_backward_call(const GRUBackwardCall& a) {
    auto p = [](void* q) { return static_cast<S*>(q); };
    gru_backward<S>(a.T, a.B, a.H, a.reset_after, a.batch_sizes, p(a.gates), p(a.hh_n), p(a.h0), p(a.output),
                    p(a.w_hh), p(a.rmask), p(a.d_output), p(a.dh), p(a.d_pre), p(a.d_rec), p(a.work),
                    {a.zoneout_mask, a.H, S(a.zoneout_p)});
}

}  // namespace lstmkit

LSTMKIT_LOOP_ENTRIES(gru_forward, GRUForwardCall, gru_forward_call)
LSTMKIT_LOOP_ENTRIES(gru_backward, GRUBackwardCall, gru_backward_call)
