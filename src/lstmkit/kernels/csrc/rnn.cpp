// Elman RNN time loop: h' = act(x_t W_ih^T + b_ih + b_hh + h W_hh^T), act tanh or relu.
// ``pre`` holds the input projection with both biases on entry; ``output`` receives each h'.
#include "common.h"

namespace lstmkit {

template <typename S>
static void rnn_forward(int T, int B, int H, int relu, const int64_t* batch_sizes, S* pre, const S* w_hh,
                        const S* rmask, S* h, S* output, S* work) {
    const StepWeight<S> recurrent(w_hh, H, H, true);
    for (int t = 0; t < T; ++t) {
        const int64_t n = active_rows(batch_sizes, t, B);
        if (n == 0) continue;
        S* pre_t = pre + int64_t(t) * B * H;
        S* out_t = output + int64_t(t) * B * H;
        const S* h_in = masked(h, rmask, n, H, work);
        recurrent.apply(n, h_in, H, S(1), pre_t, H);
        if (relu) {
#pragma omp simd
            for (int64_t i = 0; i < n * H; ++i) out_t[i] = pre_t[i] > S(0) ? pre_t[i] : S(0);
        } else {
            parallel_for(n, worth_threads(n, H), [&](int64_t b) {
#pragma omp simd
                for (int j = 0; j < H; ++j) out_t[b * H + j] = tanh_(pre_t[b * H + j]);
            });
        }
        for (int64_t i = 0; i < n * H; ++i) h[i] = out_t[i];
    }
}

template <typename S>
static void rnn_backward(int T, int B, int H, int relu, const int64_t* batch_sizes, const S* output, const S* w_hh,
                         const S* rmask, const S* d_output, S* dh, S* d_pre, S* work) {
    (void)work;
    const StepWeight<S> recurrent(w_hh, H, H, false);
    for (int t = T - 1; t >= 0; --t) {
        const int64_t n = active_rows(batch_sizes, t, B);
        if (n == 0) continue;
        const S* out_t = output + int64_t(t) * B * H;
        const S* d_out_t = d_output + int64_t(t) * B * H;
        S* d_t = d_pre + int64_t(t) * B * H;
        // The activation's derivative in terms of its output: 1 - h^2 (tanh), [h > 0] (relu).
#pragma omp simd
        for (int64_t i = 0; i < n * H; ++i) {
            S slope = relu ? S(out_t[i] > S(0)) : S(1) - out_t[i] * out_t[i];
            d_t[i] = (dh[i] + d_out_t[i]) * slope;
        }
        recurrent.apply(n, d_t, H, S(0), dh, H);
        if (rmask)
            for (int64_t i = 0; i < n * H; ++i) dh[i] *= rmask[i];
    }
}

// One loop's arguments, as the binding lays them out (_library.CALLS; see LSTMForwardCall in lstm.cpp).
struct RNNForwardCall {
    int T, B, H, relu;
    const int64_t* batch_sizes;
    void *pre, *w_hh, *rmask, *h, *output, *work;
};

struct RNNBackwardCall {
    int T, B, H, relu;
    const int64_t* batch_sizes;
    void *output, *w_hh, *rmask, *d_output, *dh, *d_pre, *work;
};

template <typename S>
static void rnn_forward_call(const RNNForwardCall& a) {
    auto p = [](void* q) { return static_cast<S*>(q); };
    rnn_forward<S>(a.T, a.B, a.H, a.relu, a.batch_sizes, p(a.pre), p(a.w_hh), p(a.rmask), p(a.h), p(a.output),
                   p(a.work));
}

template <typename S>
static void rnn_backward_call(const RNNBackwardCall& a) {
    auto p = [](void* q) { return static_cast<S*>(q); };
    rnn_backward<S>(a.T, a.B, a.H, a.relu, a.batch_sizes, p(a.output), p(a.w_hh), p(a.rmask), p(a.d_output), p(a.dh),
                    p(a.d_pre), p(a.work));
}

}  // namespace lstmkit

LSTMKIT_LOOP_ENTRIES(rnn_forward, RNNForwardCall, rnn_forward_call)
LSTMKIT_LOOP_ENTRIES(rnn_backward, RNNBackwardCall, rnn_backward_call)
