// The LSTM's fused element-wise pass over one row of the batch, shared by the time loop (lstm.cpp)
// and the streaming step (step.cpp), so the gate equations are written once.
#pragma once

#include "activations.h"

namespace lstmkit {

// One row of the fused pass: pre-activations -> activated gates, the new c and o tanh(c).
// KEEP stores the activated gates (in place), c_t and tanh(c_t) for the backward pass; inference skips
// those writes.
template <typename S, bool KEEP>
static inline void lstm_gate_row(int H, S* row, S* c_row, S* h_new, S* cell_row, S* tanh_row) {
#pragma omp simd
    for (int j = 0; j < H; ++j) {
        S i = sigmoid(row[j]);
        S f = sigmoid(row[H + j]);
        S g = tanh_(row[2 * H + j]);
        S o = sigmoid(row[3 * H + j]);
        S c_new = f * c_row[j] + i * g;
        S tc = tanh_(c_new);
        c_row[j] = c_new;
        if constexpr (KEEP) {  // inference never reads the gates again: no need to store them
            row[j] = i;
            row[H + j] = f;
            row[2 * H + j] = g;
            row[3 * H + j] = o;
            cell_row[j] = c_new;
            tanh_row[j] = tc;
        }
        h_new[j] = o * tc;
    }
}

}  // namespace lstmkit
