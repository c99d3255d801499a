// Zoneout (Krueger et al. 2016) for the time loops, forward and backward.
//
// After a step has computed a state's new value, every unit keeps its previous value where the step's
// mask is set (training), or takes the expectation p * previous + (1 - p) * new (evaluation: no mask,
// the probability p). The same weights split the error on the zoned-out state in the backward pass:
// the kept share goes straight to the previous state, the rest to the value the cell computed.
// With a 0/1 mask the mix keep * previous + (1 - keep) * new selects one of the two exactly.
#pragma once

#include <cstdint>

namespace lstmkit {

template <typename S>
struct Zoneout {
    const uint8_t* mask;  // (T, B, width), 1 where a unit keeps its previous value; null: use p
    int width;            // units of a mask row: H for a GRU, P + H for an LSTM (h's units, then c's)
    S p;                  // the probability used without a mask; 0 with no mask means no zoneout

    bool active() const { return mask != nullptr || p != S(0); }

    // Rows 0..rows-1 of the (B, cols) state at step t, zoned out with mask columns [offset, offset + cols):
    // state_t = keep * previous + (1 - keep) * state_t, and the running state takes the same values.
    void forward(int t, int B, int64_t rows, int offset, int cols, const S* previous, S* state_t, S* state) const {
        for (int64_t b = 0; b < rows; ++b) {
            const uint8_t* m = mask ? mask + (int64_t(t) * B + b) * width + offset : nullptr;
            const S* prev = previous + b * cols;
            S* now = state_t + b * cols;
            S* running = state + b * cols;
#pragma omp simd
            for (int j = 0; j < cols; ++j) {
                S keep = m ? S(m[j]) : p;
                S v = keep * prev[j] + (S(1) - keep) * now[j];
                now[j] = v;
                running[j] = v;
            }
        }
    }

    // The error d on rows 0..rows-1 of a zoned-out (B, cols) state at step t: carry = keep * d (what
    // reaches the previous state directly), d = (1 - keep) * d (what reaches the cell's new value).
    void split_error(int t, int B, int64_t rows, int offset, int cols, S* d, S* carry) const {
        for (int64_t b = 0; b < rows; ++b) {
            const uint8_t* m = mask ? mask + (int64_t(t) * B + b) * width + offset : nullptr;
            S* d_row = d + b * cols;
            S* carry_row = carry + b * cols;
#pragma omp simd
            for (int j = 0; j < cols; ++j) {
                S keep = m ? S(m[j]) : p;
                carry_row[j] = keep * d_row[j];
                d_row[j] = (S(1) - keep) * d_row[j];
            }
        }
    }
};

// state[i] += carry[i] for the first count values: the zoned-out share of the error, added back once
// the step's own error has reached the previous state.
template <typename S>
inline void add_carry(int64_t count, const S* carry, S* state) {
#pragma omp simd
    for (int64_t i = 0; i < count; ++i) state[i] += carry[i];
}

}  // namespace lstmkit
