// Splitting a loop over the rows of the batch between OpenMP threads, only when it pays.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace lstmkit {

// Rows of the fused element-wise passes are split over threads only when there is enough work to pay
// for waking them (a fork costs a few microseconds).
inline bool worth_threads(int64_t rows, int64_t per_row) { return rows > 1 && rows * per_row >= 16384; }

// body(i) for i in [0, n): shared among the threads when ``threaded``, otherwise a plain loop. Even
// with `if (false)` an OpenMP parallel loop sets up a team, and that cost about 0.4 µs per loop on
// the development machine, a third of a batch-1 step of a 64-unit LSTM. Inside run_calls each loop
// has one thread already: a plain loop too.
template <typename Body>
inline void parallel_for(int64_t n, bool threaded, Body&& body) {
    if (!threaded || omp_in_parallel()) {
        for (int64_t i = 0; i < n; ++i) body(i);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) body(i);
}

// body(i) for each of ``count`` independent loops (a bidirectional layer's two directions). Where there
// are no more threads than loops, each thread runs whole loops alone: a loop's steps then pay no
// hand-over between threads, which a step shared by two threads pays twice (its GEMM and its element-wise
// pass). A BiLSTM layer at (B, T, I, H) = (64, 110, 144, 128) on 2 threads: forward and backward loops
// 37 ms shared, 25 ms side by side (docs/kernels.md). With more threads than loops, the loops run one
// after the other, each with all the threads.
template <typename Body>
inline void run_calls(int count, Body&& body) {
    const int threads = omp_get_max_threads();
    if (count < 2 || threads < 2 || threads > count || omp_in_parallel()) {
        for (int i = 0; i < count; ++i) body(i);
        return;
    }
#pragma omp parallel for num_threads(std::min(count, threads)) schedule(dynamic, 1)
    for (int i = 0; i < count; ++i) body(i);
}

}  // namespace lstmkit
