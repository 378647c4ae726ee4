// The thread pool behind parallel_for.
//
// One pool per process: a function-local static, created on first use and
// joined by its destructor at exit (RAII). It owns n-1 worker threads; the
// thread that calls parallel_for is the n-th and works on chunks too.
//
// A job is the tuple (fn, begin, end, grain). Every participating thread takes
// the next chunk index from one atomic counter until none is left, so which
// thread runs a chunk varies, but the chunk boundaries never do.
//
// Concurrency rules:
//   - run_mutex_ lets one parallel_for (or set_num_threads) use the pool at a
//     time; calls from several user threads simply take turns.
//   - state_mutex_ guards the job description, the generation counter and the
//     count of workers still busy; the two condition variables signal "new
//     job" (to workers) and "all workers done" (to the caller).
//   - t_in_pool marks workers, and the caller while it is running a job, so a
//     nested parallel_for runs inline instead of deadlocking on run_mutex_.
#include <lucid/kernels/error.h>
#include <lucid/kernels/thread_pool.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace lucid {
namespace {

thread_local bool t_in_pool = false;

int default_num_threads() {
  if (const char* env = std::getenv("LUCID_NUM_THREADS")) {
    const long n = std::strtol(env, nullptr, 10);
    if (n >= 1) return static_cast<int>(n);
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

using ChunkFn = std::function<void(int64_t, int64_t)>;

// Runs fn over [begin, end) chunk by chunk on the calling thread.
void run_inline(int64_t begin, int64_t end, int64_t grain, const ChunkFn& fn) {
  for (int64_t b = begin; b < end; b += grain) fn(b, std::min(b + grain, end));
}

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads) { start_workers(num_threads - 1); }
  ~ThreadPool() { stop_workers(); }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Lock-free, so a chunk may ask for it while its own job holds run_mutex_.
  int num_threads() const { return num_threads_.load(std::memory_order_relaxed); }

  void resize(int num_threads) {
    std::lock_guard run_lock(run_mutex_);
    if (static_cast<int>(workers_.size()) + 1 == num_threads) return;
    stop_workers();
    start_workers(num_threads - 1);
  }

  void run(int64_t begin, int64_t end, int64_t grain, const ChunkFn& fn) {
    std::unique_lock run_lock(run_mutex_);
    if (workers_.empty()) {
      run_lock.unlock();
      run_inline(begin, end, grain, fn);
      return;
    }
    {
      std::lock_guard lock(state_mutex_);
      fn_ = &fn;
      begin_ = begin;
      end_ = end;
      grain_ = grain;
      num_chunks_ = (end - begin + grain - 1) / grain;
      next_chunk_.store(0, std::memory_order_relaxed);
      error_ = nullptr;
      busy_workers_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    job_ready_.notify_all();

    t_in_pool = true;  // nested parallel_for inside our own chunks runs inline
    work_on_chunks();
    t_in_pool = false;

    std::unique_lock lock(state_mutex_);
    job_done_.wait(lock, [&] { return busy_workers_ == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void start_workers(int count) {
    // Callers hold run_mutex_ (or are the constructor), so no job is being
    // posted: each new worker starts waiting for the generation after this one.
    stop_ = false;
    for (int i = 0; i < count; ++i)
      workers_.emplace_back([this, seen = generation_] { worker_loop(seen); });
    num_threads_.store(count + 1, std::memory_order_relaxed);
  }

  void stop_workers() {
    {
      std::lock_guard lock(state_mutex_);
      stop_ = true;
    }
    job_ready_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  void worker_loop(uint64_t seen_generation) {
    t_in_pool = true;
    for (;;) {
      {
        std::unique_lock lock(state_mutex_);
        job_ready_.wait(lock, [&] { return stop_ || generation_ != seen_generation; });
        if (stop_) return;
        seen_generation = generation_;
      }
      work_on_chunks();
      {
        std::lock_guard lock(state_mutex_);
        if (--busy_workers_ == 0) job_done_.notify_one();
      }
    }
  }

  // Takes chunks until none is left. Every chunk runs even after one throws;
  // the first exception is kept for the caller.
  void work_on_chunks() {
    for (;;) {
      const int64_t chunk = next_chunk_.fetch_add(1, std::memory_order_relaxed);
      if (chunk >= num_chunks_) return;
      const int64_t b = begin_ + chunk * grain_;
      try {
        (*fn_)(b, std::min(b + grain_, end_));
      } catch (...) {
        std::lock_guard lock(state_mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  std::mutex run_mutex_;  // one job (or resize) at a time
  std::atomic<int> num_threads_{1};
  std::vector<std::thread> workers_;

  std::mutex state_mutex_;
  std::condition_variable job_ready_;
  std::condition_variable job_done_;
  bool stop_ = false;
  uint64_t generation_ = 0;  // bumped once per job; workers wait for a change
  int busy_workers_ = 0;
  std::exception_ptr error_;

  // The current job. Written under state_mutex_ before generation_ is bumped,
  // so a worker that has seen the new generation also sees these.
  const ChunkFn* fn_ = nullptr;
  int64_t begin_ = 0, end_ = 0, grain_ = 1, num_chunks_ = 0;
  std::atomic<int64_t> next_chunk_{0};
};

ThreadPool& pool() {
  static ThreadPool instance(default_num_threads());
  return instance;
}

}  // namespace

void set_num_threads(int n) {
  LUCID_CHECK(n >= 1, "set_num_threads: need n >= 1, got ", n);
  LUCID_CHECK(!t_in_pool, "set_num_threads: cannot resize the pool from inside parallel_for");
  pool().resize(n);
}

int get_num_threads() { return pool().num_threads(); }

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn) {
  LUCID_CHECK(grain >= 1, "parallel_for: need grain >= 1, got ", grain);
  if (begin >= end) return;
  if (t_in_pool || end - begin <= grain) {
    run_inline(begin, end, grain, fn);
    return;
  }
  pool().run(begin, end, grain, fn);
}

}  // namespace lucid
