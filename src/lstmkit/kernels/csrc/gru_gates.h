// The GRU's gate equations, shared by the time loop (gru.cpp) and the streaming step (step.cpp), so
// they are written once. Pre-activations come split as the loops hold them: the input part x_* (W_ih x
// + b_ih) and the recurrent part h_* (W_hh h + b_hh, or in the reset-before form W_hn (r * h) + b_hn).
#pragma once

#include "activations.h"

namespace lstmkit {

template <typename S>
struct GRUUnit {
    S r, z, n, h;  // reset gate, update gate, candidate, new state
};

// reset_after (torch/cuDNN): n = tanh(x_n + r * h_n), h' = (1 - z) n + z h.
template <typename S>
static inline GRUUnit<S> gru_reset_after(S x_r, S x_z, S x_n, S h_r, S h_z, S h_n, S h_prev) {
    const S r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z);
    const S n = tanh_(x_n + r * h_n);
    return {r, z, n, (S(1) - z) * n + z * h_prev};
}

// Reset before (Cho et al. 2014), in two halves around the candidate's product: first r and z, then
// with W_hn (r * h) + b_hn known, n and h'.
template <typename S>
static inline GRUUnit<S> gru_reset_before_gates(S x_r, S x_z, S h_r, S h_z) {
    return {sigmoid(x_r + h_r), sigmoid(x_z + h_z), S(0), S(0)};
}

template <typename S>
static inline GRUUnit<S> gru_reset_before_update(S z, S x_n, S candidate_product, S h_prev) {
    const S n = tanh_(x_n + candidate_product);
    return {S(0), z, n, (S(1) - z) * n + z * h_prev};
}

}  // namespace lstmkit
