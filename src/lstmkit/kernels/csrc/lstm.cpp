// LSTM time loop, forward and backward: one GEMM and one fused element-wise pass per step.
//
// Forward, per step t over the running rows: gates[t] (holding W_ih x_t + b_ih + b_hh on entry)
// += h_in W_hh^T, then i, f, g, o = sigmoid, sigmoid, tanh, sigmoid; c = f c + i g; h = o tanh(c)
// (then h = h W_hr^T with a projection). The activated gates, c_t and tanh(c_t) are kept for the
// backward pass. Backward walks the steps in reverse and produces only the pre-activation errors
// d_pre (and the error on each projected h); the weight and input gradients are whole-sequence GEMMs
// done by the binding.
//
// Options: zoneout (zoneout.h) mixes each new h and c with the previous ones after the step and splits
// their errors the same way; a layer-normalised LSTM (lstm_layer_norm.h) replaces the fused
// element-wise pass of each row by its own, the loop around it (GEMMs, lengths, dropout) unchanged.
#include <algorithm>

#include "common.h"
#include "lstm_gates.h"
#include "lstm_layer_norm.h"
#include "zoneout.h"

namespace lstmkit {

// ``cells``/``tanh_cells`` may be null for plain inference (nothing kept for a backward pass); zoneout
// and layer norm need them.
template <typename S>
static void lstm_forward(int T, int B, int H, int P, const int64_t* batch_sizes, S* gates, const S* w_hh,
                         const S* w_hr, const S* rmask, S* h, S* c, S* cells, S* tanh_cells, S* output, S* work,
                         const S* h0, const S* c0, Zoneout<S> zoneout, LayerNormLSTMForward<S> ln) {
    const int G = 4 * H;
    S* h_cell = work;                      // (B, H): o * tanh(c) before the projection
    S* h_in_scratch = work + int64_t(B) * H;  // (B, P): h * recurrent mask
    const StepWeight<S> recurrent(w_hh, P, G, true), projection(w_hr, H, P, true);
    if (ln.active()) ln.normalise_inputs(int64_t(T) * B, H);
    for (int t = 0; t < T; ++t) {
        const int64_t n = active_rows(batch_sizes, t, B);
        if (n == 0) continue;
        S* pre = gates + int64_t(t) * B * G;
        if (ln.active()) std::fill(pre, pre + n * G, S(0));  // the GEMM below adds W_hh h_in to zero
        const S* h_in = masked(h, rmask, n, P, h_in_scratch);
        recurrent.apply(n, h_in, P, S(1), pre, G);
        S* out_t = output + int64_t(t) * B * P;
        S* h_new_base = w_hr ? h_cell : out_t;
        S* cell_t = cells ? cells + int64_t(t) * B * H : nullptr;
        S* tanh_t = tanh_cells ? tanh_cells + int64_t(t) * B * H : nullptr;
        parallel_for(n, worth_threads(n, G), [&](int64_t b) {
            S* row = pre + b * G;
            S* c_row = c + b * H;
            S* h_new = h_new_base + b * H;
            if (ln.active()) {
                ln.row(int64_t(t) * B + b, H, row, c_row, cell_t + b * H, tanh_t + b * H, h_new);
                return;
            }
            if (cell_t) {
                lstm_gate_row<S, true>(H, row, c_row, h_new, cell_t + b * H, tanh_t + b * H);
            } else {
                lstm_gate_row<S, false>(H, row, c_row, h_new, nullptr, nullptr);
            }
        });
        // Rows of finished sequences hold no gates (what the trace reports, and finite for the binding's sums).
        for (int64_t i = n * G; i < int64_t(B) * G; ++i) pre[i] = S(0);
        if (w_hr) projection.apply(n, h_cell, H, S(0), out_t, P);
        for (int64_t i = 0; i < n * P; ++i) h[i] = out_t[i];
        if (zoneout.active()) {
            zoneout.forward(t, B, n, 0, P, t > 0 ? output + int64_t(t - 1) * B * P : h0, out_t, h);
            zoneout.forward(t, B, n, P, H, t > 0 ? cells + int64_t(t - 1) * B * H : c0, cell_t, c);
        }
    }
}

template <typename S>
static void lstm_backward(int T, int B, int H, int P, const int64_t* batch_sizes, const S* gates, const S* cells,
                          const S* tanh_cells, const S* c0, const S* w_hh, const S* w_hr, const S* rmask,
                          const S* d_output, S* dh, S* dc, S* d_pre, S* d_h_new, S* work, Zoneout<S> zoneout,
                          LayerNormLSTMBackward<S> ln) {
    const int G = 4 * H;
    S* dh_step = work;                        // (B, P): error on the step's (projected) output
    S* dh_cell = work + int64_t(B) * P;        // (B, H): error on o * tanh(c)
    const StepWeight<S> recurrent(w_hh, G, P, false), projection(w_hr, P, H, false);
    S* carry_h = dh_cell + int64_t(B) * H;     // (B, P), (B, H): zoned-out shares of the errors on h and c
    S* carry_c = carry_h + int64_t(B) * P;
    if (ln.active()) {
        ln.d_gates = carry_c + int64_t(B) * H;  // (B, 4H), (B, H)
        ln.d_cell = ln.d_gates + int64_t(B) * G;
    }
    for (int t = T - 1; t >= 0; --t) {
        const int64_t n = active_rows(batch_sizes, t, B);
        if (n == 0) continue;
        const S* d_out_t = d_output + int64_t(t) * B * P;
        for (int64_t i = 0; i < n * P; ++i) dh_step[i] = dh[i] + d_out_t[i];
        if (zoneout.active()) {
            zoneout.split_error(t, B, n, 0, P, dh_step, carry_h);
            zoneout.split_error(t, B, n, P, H, dc, carry_c);
        }
        const S* dhc = dh_step;
        if (w_hr) {
            S* d_h_new_t = d_h_new + int64_t(t) * B * P;
            for (int64_t i = 0; i < n * P; ++i) d_h_new_t[i] = dh_step[i];
            projection.apply(n, dh_step, P, S(0), dh_cell, H);
            dhc = dh_cell;
        }
        const S* gate_t = gates + int64_t(t) * B * G;
        const S* tanh_t = tanh_cells + int64_t(t) * B * H;
        const S* c_prev = t > 0 ? cells + int64_t(t - 1) * B * H : c0;
        S* d_pre_t = d_pre + int64_t(t) * B * G;
        parallel_for(n, worth_threads(n, G), [&](int64_t b) {
            const S* row = gate_t + b * G;
            const S* tc = tanh_t + b * H;
            const S* cp = c_prev + b * H;
            const S* dhc_row = dhc + b * H;
            S* dc_row = dc + b * H;
            S* d = d_pre_t + b * G;
            if (ln.active()) {
                ln.row(t, B, b, H, row, tc, cp, dhc_row, dc_row, d);
                return;
            }
#pragma omp simd
            for (int j = 0; j < H; ++j) {
                S i = row[j], f = row[H + j], g = row[2 * H + j], o = row[3 * H + j];
                S dct = dc_row[j] + dhc_row[j] * o * (S(1) - tc[j] * tc[j]);
                d[j] = dct * g * i * (S(1) - i);
                d[H + j] = dct * cp[j] * f * (S(1) - f);
                d[2 * H + j] = dct * i * (S(1) - g * g);
                d[3 * H + j] = dhc_row[j] * tc[j] * o * (S(1) - o);
                dc_row[j] = dct * f;
            }
        });
        recurrent.apply(n, d_pre_t, G, S(0), dh, P);
        if (rmask)
            for (int64_t i = 0; i < n * P; ++i) dh[i] *= rmask[i];
        if (zoneout.active()) {
            add_carry(n * P, carry_h, dh);
            add_carry(n * H, carry_c, dc);
        }
        if (ln.active()) ln.accumulate(t, B, n, H);
    }
}

// The arguments of one loop, laid out as the binding builds them (a ctypes structure of the same field
// kinds, _library.CALLS): an entry point takes an array of them, so that a bidirectional layer's two
// directions run in one library call, side by side (run_calls). Sizes are checked at load time.
struct LSTMForwardCall {
    int T, B, H, P;
    const int64_t* batch_sizes;
    void *gates, *w_hh, *w_hr, *rmask, *h, *c, *cells, *tanh_cells, *output, *work, *h0, *c0;
    const uint8_t* zoneout_mask;
    double zoneout_p;
    void *ln_ih_gain, *ln_hh_gain, *ln_bias, *ln_cell_weight, *ln_cell_bias, *ln_ih_norm, *ln_ih_rstd, *ln_hh_norm,
        *ln_hh_rstd, *ln_cell_norm, *ln_cell_rstd;
};

struct LSTMBackwardCall {
    int T, B, H, P;
    const int64_t* batch_sizes;
    void *gates, *cells, *tanh_cells, *c0, *w_hh, *w_hr, *rmask, *d_output, *dh, *dc, *d_pre, *d_h_new, *work;
    const uint8_t* zoneout_mask;
    double zoneout_p;
    void *ln_ih_gain, *ln_hh_gain, *ln_cell_weight, *ln_ih_norm, *ln_ih_rstd, *ln_hh_norm, *ln_hh_rstd, *ln_cell_norm,
        *ln_cell_rstd, *ln_d_input, *ln_d_ih_gain, *ln_d_bias, *ln_d_hh_gain, *ln_d_cell_weight, *ln_d_cell_bias;
};

template <typename S>
static void lstm_forward_call(const LSTMForwardCall& a) {
    auto p = [](void* q) { return static_cast<S*>(q); };
    lstm_forward<S>(a.T, a.B, a.H, a.P, a.batch_sizes, p(a.gates), p(a.w_hh), p(a.w_hr), p(a.rmask), p(a.h), p(a.c),
                    p(a.cells), p(a.tanh_cells), p(a.output), p(a.work), p(a.h0), p(a.c0),
                    {a.zoneout_mask, a.P + a.H, S(a.zoneout_p)},
                    {p(a.ln_ih_gain), p(a.ln_hh_gain), p(a.ln_bias), p(a.ln_cell_weight), p(a.ln_cell_bias),
                     p(a.ln_ih_norm), p(a.ln_ih_rstd), p(a.ln_hh_norm), p(a.ln_hh_rstd), p(a.ln_cell_norm),
                     p(a.ln_cell_rstd)});
}

template <typename S>
static void lstm_backward_call(const LSTMBackwardCall& a) {
    auto p = [](void* q) { return static_cast<S*>(q); };
    lstm_backward<S>(a.T, a.B, a.H, a.P, a.batch_sizes, p(a.gates), p(a.cells), p(a.tanh_cells), p(a.c0), p(a.w_hh),
                     p(a.w_hr), p(a.rmask), p(a.d_output), p(a.dh), p(a.dc), p(a.d_pre), p(a.d_h_new), p(a.work),
                     {a.zoneout_mask, a.P + a.H, S(a.zoneout_p)},
                     {p(a.ln_ih_gain), p(a.ln_hh_gain), p(a.ln_cell_weight), p(a.ln_ih_norm), p(a.ln_ih_rstd),
                      p(a.ln_hh_norm), p(a.ln_hh_rstd), p(a.ln_cell_norm), p(a.ln_cell_rstd), p(a.ln_d_input),
                      p(a.ln_d_ih_gain), p(a.ln_d_bias), p(a.ln_d_hh_gain), p(a.ln_d_cell_weight),
                      p(a.ln_d_cell_bias), nullptr, nullptr});
}

}  // namespace lstmkit

LSTMKIT_LOOP_ENTRIES(lstm_forward, LSTMForwardCall, lstm_forward_call)
LSTMKIT_LOOP_ENTRIES(lstm_backward, LSTMBackwardCall, lstm_backward_call)
