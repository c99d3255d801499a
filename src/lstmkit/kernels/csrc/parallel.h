// Splitting a loop over the rows of the batch between OpenMP threads, only when it pays.
#pragma once

#include <cstdint>

namespace lstmkit {

// Rows of the fused element-wise passes are split over threads only when there is enough work to pay
// for waking them (a fork costs a few microseconds).
inline bool worth_threads(int64_t rows, int64_t per_row) { return rows > 1 && rows * per_row >= 16384; }

// body(i) for i in [0, n): shared among the threads when ``threaded``, otherwise a plain loop. Even
// with `if (false)` an OpenMP parallel loop sets up a team, and that cost about 0.4 µs per loop on
// the development machine, a third of a batch-1 step of a 64-unit LSTM.
template <typename Body>
inline void parallel_for(int64_t n, bool threaded, Body&& body) {
    if (!threaded) {
        for (int64_t i = 0; i < n; ++i) body(i);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace lstmkit
