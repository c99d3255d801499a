// Shared conventions of the time-loop kernels.
//
// Every tensor is a contiguous row-major buffer in torch's layout: time-major sequences (T, B, N),
// states (B, N), weights (rows, cols) as torch.nn stores them. The batch is sorted by length,
// longest first, so the sequences still running at step t are exactly rows 0 .. batch_sizes[t]-1
// (as in a PackedSequence): a finished sequence costs nothing, its state rows are left untouched and
// its output rows stay zero.
#pragma once

#include <cstdint>

#include "activations.h"
#include "blas.h"
#include "parallel.h"

namespace lstmkit {

inline int64_t active_rows(const int64_t* batch_sizes, int t, int batch) {
    return batch_sizes ? batch_sizes[t] : batch;
}

// in[r] * mask[r] for the running rows (variational recurrent dropout), or in itself without a mask.
template <typename S>
inline const S* masked(const S* in, const S* mask, int64_t rows, int width, S* scratch) {
    if (!mask) return in;
    for (int64_t i = 0; i < rows * width; ++i) scratch[i] = in[i] * mask[i];
    return scratch;
}

}  // namespace lstmkit

// The entry points of one loop: lstmkit_<name>_f32 and _f64 run ``count`` calls, each a ``Call``
// structure, with ``run<S>`` (side by side where the threads allow: run_calls), and
// lstmkit_<name>_call_size gives the structure's size for the binding to check its layout against.
#define LSTMKIT_LOOP_ENTRIES(name, Call, run)                                                                \
    LSTMKIT_API void lstmkit_##name##_f32(int count, const lstmkit::Call* calls) {                           \
        lstmkit::run_calls(count, [&](int i) { lstmkit::run<float>(calls[i]); });                            \
    }                                                                                                        \
    LSTMKIT_API void lstmkit_##name##_f64(int count, const lstmkit::Call* calls) {                           \
        lstmkit::run_calls(count, [&](int i) { lstmkit::run<double>(calls[i]); });                           \
    }                                                                                                        \
    LSTMKIT_API int lstmkit_##name##_call_size() { return sizeof(lstmkit::Call); }
