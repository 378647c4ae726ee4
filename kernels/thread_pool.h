// A small fixed thread pool and parallel_for, used by every CPU kernel.
//
// Determinism: parallel_for splits [begin, end) into chunks whose boundaries
// depend only on (begin, end, grain), never on the thread count, and each chunk
// is written by exactly one thread. Kernels that reduce do so inside a chunk or
// combine per-chunk partials in chunk order, so results are bit-identical for
// any number of threads.
#pragma once
#include <cstdint>
#include <functional>

namespace lucid {

// Number of threads CPU kernels may use (default: hardware concurrency,
// or the LUCID_NUM_THREADS environment variable). Mirrors torch::set_num_threads.
void set_num_threads(int n);
int get_num_threads();

// Calls fn(chunk_begin, chunk_end) over [begin, end) in chunks of `grain`
// elements (the last one may be shorter). Runs inline when there is one chunk,
// one thread, or when called from inside a pool worker (no nested parallelism).
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

}  // namespace lucid
