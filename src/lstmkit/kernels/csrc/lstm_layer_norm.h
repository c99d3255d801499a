// The layer-normalised LSTM step of one batch row (Ba, Kiros & Hinton 2016), forward and backward.
//
//   a = LN(W_ih x) g_ih + LN(W_hh h_in) g_hh + b_ih + b_hh,   i, f, g, o from a,   c = f c + i g,
//   h = o tanh(LN(c) g_c + b_c)
//
// where LN(v) = (v - mean) / sqrt(var + eps) over v's values (biased variance, as
// torch.nn.functional.layer_norm). The state carried on is the unnormalised c. The binding computes
// W_ih x for all steps in one GEMM before the loop (ih_norm); the loop zeroes each step's running gate
// rows, the recurrent GEMM leaves r = W_hh h_in there, and the row step below does the rest. W_ih x is
// normalised in place for every step before the loop (it does not depend on the recurrence).
//
// Backward leaves in d_pre the error on r (what the recurrent GEMM produced), so the binding's
// dW_hh = d_pre^T h_in and the loop's dh = d_pre W_hh are the plain LSTM's, and in d_input the error
// on W_ih x, from which the binding takes dx and dW_ih as whole-sequence GEMMs, as for a plain LSTM.
// The gains' and biases' gradients are summed over the running rows after each step (serially: the
// rows were split over threads).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "activations.h"
#include "parallel.h"

namespace lstmkit {

constexpr double kLayerNormEps = 1e-5;  // torch.nn.functional.layer_norm's default

// norm = (v - mean) / sqrt(var + eps) over n values (two passes: the variance of the centred values
// does not cancel catastrophically); norm may be v itself. Returns 1 / sqrt(var + eps).
template <typename S>
inline S normalise(const S* v, int n, S* norm) {
    S sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < n; ++j) sum += v[j];
    const S mean = sum / S(n);
    S squares = 0;
#pragma omp simd reduction(+ : squares)
    for (int j = 0; j < n; ++j) squares += (v[j] - mean) * (v[j] - mean);
    const S rstd = S(1) / std::sqrt(squares / S(n) + S(kLayerNormEps));
#pragma omp simd
    for (int j = 0; j < n; ++j) norm[j] = (v[j] - mean) * rstd;
    return rstd;
}

// For y = norm * gain, the error on v from the error dy on y:
// dv = rstd * (dn - mean(dn) - norm * mean(dn * norm)) with dn = dy * gain.
template <typename S>
inline void normalise_backward(const S* dy, const S* gain, const S* norm, S rstd, int n, S* dv) {
    S sum = 0, sum_norm = 0;
#pragma omp simd reduction(+ : sum, sum_norm)
    for (int j = 0; j < n; ++j) {
        S dn = dy[j] * gain[j];
        sum += dn;
        sum_norm += dn * norm[j];
    }
    const S mean_dn = sum / S(n), mean_dn_norm = sum_norm / S(n);
#pragma omp simd
    for (int j = 0; j < n; ++j) dv[j] = rstd * (dy[j] * gain[j] - mean_dn - norm[j] * mean_dn_norm);
}

template <typename S>
struct LayerNormLSTMForward {
    const S* ih_gain;      // (4H); null for a plain LSTM
    const S* hh_gain;      // (4H)
    const S* bias;         // (4H): b_ih + b_hh, or null
    const S* cell_weight;  // (H)
    const S* cell_bias;    // (H)
    S* ih_norm;            // (T, B, 4H): W_ih x on entry, LN(W_ih x) on exit (kept for backward)
    S* ih_rstd;            // (T, B)
    S* hh_norm;            // (T, B, 4H): LN(r)
    S* hh_rstd;            // (T, B)
    S* cell_norm;          // (T, B, H): LN(c)
    S* cell_rstd;          // (T, B)

    bool active() const { return ih_gain != nullptr; }

    // LN(W_ih x) of all T * B rows at once, in place, before the loop: it does not depend on the
    // recurrence, so it need not wait for it (rows of finished sequences are normalised too, never read).
    void normalise_inputs(int64_t rows, int H) const {
        const int G = 4 * H;
        parallel_for(rows, worth_threads(rows, G), [&](int64_t tb) {
            ih_rstd[tb] = normalise(ih_norm + tb * G, G, ih_norm + tb * G);
        });
    }

    // One row at flat index tb = t * B + b. gate_row (4H): r on entry, the activated i, f, g, o on
    // exit; c_row: c_{t-1} on entry, c_t on exit (also written to cell_row); tanh_row and h_row
    // receive tanh(LN(c) g_c + b_c) and o times it.
    void row(int64_t tb, int H, S* gate_row, S* c_row, S* cell_row, S* tanh_row, S* h_row) const {
        const int G = 4 * H;
        const S* nx = ih_norm + tb * G;  // normalised before the loop (normalise_inputs)
        S* nh = hh_norm + tb * G;
        hh_rstd[tb] = normalise(gate_row, G, nh);
#pragma omp simd
        for (int j = 0; j < G; ++j) gate_row[j] = nx[j] * ih_gain[j] + nh[j] * hh_gain[j] + (bias ? bias[j] : S(0));
#pragma omp simd
        for (int j = 0; j < H; ++j) {
            S i = sigmoid(gate_row[j]);
            S f = sigmoid(gate_row[H + j]);
            S g = tanh_(gate_row[2 * H + j]);
            S c_new = f * c_row[j] + i * g;
            gate_row[j] = i;
            gate_row[H + j] = f;
            gate_row[2 * H + j] = g;
            gate_row[3 * H + j] = sigmoid(gate_row[3 * H + j]);
            c_row[j] = c_new;
            cell_row[j] = c_new;
        }
        S* nc = cell_norm + tb * H;
        cell_rstd[tb] = normalise(cell_row, H, nc);
#pragma omp simd
        for (int j = 0; j < H; ++j) {
            S tc = tanh_(nc[j] * cell_weight[j] + cell_bias[j]);
            tanh_row[j] = tc;
            h_row[j] = gate_row[3 * H + j] * tc;
        }
    }
};

template <typename S>
struct LayerNormLSTMBackward {
    const S* ih_gain;      // (4H); null for a plain LSTM
    const S* hh_gain;      // (4H)
    const S* cell_weight;  // (H)
    const S* ih_norm;      // what the forward pass kept: (T, B, 4H), (T, B) for each norm ((T, B, H) for c's)
    const S* ih_rstd;
    const S* hh_norm;
    const S* hh_rstd;
    const S* cell_norm;
    const S* cell_rstd;
    S* d_input;        // (T, B, 4H): error on W_ih x
    S* d_ih_gain;      // (4H), (4H), (4H), (H), (H): gradients, accumulated over the steps
    S* d_bias;
    S* d_hh_gain;
    S* d_cell_weight;
    S* d_cell_bias;
    S* d_gates;        // (B, 4H) and (B, H) scratch: errors on a and on LN(c) g_c + b_c at this step
    S* d_cell;

    bool active() const { return ih_gain != nullptr; }

    // Row b of step t: gate_row the activated gates, tanh_row tanh(LN(c) g_c + b_c), c_prev the state
    // c_{t-1}, dh_row the error on o * tanh(...); dc_row: the error on c_t on entry, on c_{t-1}
    // (through f) on exit; d_row receives the error on r = W_hh h_in.
    void row(int t, int B, int64_t b, int H, const S* gate_row, const S* tanh_row, const S* c_prev, const S* dh_row,
             S* dc_row, S* d_row) const {
        const int G = 4 * H;
        const int64_t tb = int64_t(t) * B + b;
        S* da = d_gates + b * G;
        S* dy = d_cell + b * H;
        S* dc_norm = d_row;  // (H) scratch: d_row is written last
#pragma omp simd
        for (int j = 0; j < H; ++j) {
            S tc = tanh_row[j];
            dy[j] = dh_row[j] * gate_row[3 * H + j] * (S(1) - tc * tc);
        }
        normalise_backward(dy, cell_weight, cell_norm + tb * H, cell_rstd[tb], H, dc_norm);
#pragma omp simd
        for (int j = 0; j < H; ++j) {
            S i = gate_row[j], f = gate_row[H + j], g = gate_row[2 * H + j], o = gate_row[3 * H + j];
            S dct = dc_row[j] + dc_norm[j];
            da[j] = dct * g * i * (S(1) - i);
            da[H + j] = dct * c_prev[j] * f * (S(1) - f);
            da[2 * H + j] = dct * i * (S(1) - g * g);
            da[3 * H + j] = dh_row[j] * tanh_row[j] * o * (S(1) - o);
            dc_row[j] = dct * f;
        }
        normalise_backward(da, ih_gain, ih_norm + tb * G, ih_rstd[tb], G, d_input + tb * G);
        normalise_backward(da, hh_gain, hh_norm + tb * G, hh_rstd[tb], G, d_row);
    }

    // Add step t's share of the gain and bias gradients: sums over the running rows of da * LN(W_ih x),
    // da, da * LN(r), dy * LN(c) and dy. Threads take blocks of columns (each sum stays one thread's),
    // so the step's rows need no reduction between threads.
    void accumulate(int t, int B, int64_t rows, int H) const {
        const int G = 4 * H;
        constexpr int BLOCK = 64;
        const int gate_blocks = (G + BLOCK - 1) / BLOCK, cell_blocks = (H + BLOCK - 1) / BLOCK;
        parallel_for(gate_blocks + cell_blocks, worth_threads(rows, G), [&](int64_t block) {
            const bool gates = block < gate_blocks;
            const int j0 = int(gates ? block : block - gate_blocks) * BLOCK;
            const int j1 = std::min(j0 + BLOCK, gates ? G : H);
            for (int64_t b = 0; b < rows; ++b) {
                const int64_t tb = int64_t(t) * B + b;
                if (gates) {
                    const S* da = d_gates + b * G;
                    const S* nx = ih_norm + tb * G;
                    const S* nh = hh_norm + tb * G;
#pragma omp simd
                    for (int j = j0; j < j1; ++j) {
                        d_ih_gain[j] += da[j] * nx[j];
                        d_bias[j] += da[j];
                        d_hh_gain[j] += da[j] * nh[j];
                    }
                } else {
                    const S* dy = d_cell + b * H;
                    const S* nc = cell_norm + tb * H;
#pragma omp simd
                    for (int j = j0; j < j1; ++j) {
                        d_cell_weight[j] += dy[j] * nc[j];
                        d_cell_bias[j] += dy[j];
                    }
                }
            }
        });
    }
};

}  // namespace lstmkit
