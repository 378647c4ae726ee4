// The emulator's own tests (LUCID_CUDA=EMULATE builds only; CTest label "emu").
// This file is CUDA: it goes through cuda_emu_rewrite like kernels/cuda/*.cu, so
// each test is a small kernel whose result shows one rule of the emulation:
// thread coordinates, barriers, warp shuffles and votes, poisoned shared memory,
// launch limits, and the faults a real GPU gives (host code reading device
// memory, a kernel reading another GPU's memory, a barrier not all threads reach).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr unsigned kFull = 0xffffffffu;

// A device buffer of n Ts, read back with to_host().
template <class T>
struct DeviceBuffer {
  T* p = nullptr;
  size_t n;
  explicit DeviceBuffer(size_t count) : n(count) { REQUIRE(cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(T)) == cudaSuccess); }
  ~DeviceBuffer() { cudaFree(p); }
  std::vector<T> to_host() const {
    std::vector<T> h(n);
    REQUIRE(cudaMemcpyAsync(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost, nullptr) == cudaSuccess);
    return h;
  }
};

// How a child process ended: its exit status or 128 + signal, and what it wrote to stderr.
struct ChildEnd {
  int status;
  std::string err;
};

// Runs fn in a child process (for faults, which end the process).
ChildEnd in_child(const std::function<void()>& fn) {
  std::fflush(nullptr);
  int pipe_fd[2];
  REQUIRE(pipe(pipe_fd) == 0);
  const pid_t pid = fork();
  if (pid == 0) {
    // stderr to the parent; stdout quiet (doctest's crash report is noise here).
    dup2(pipe_fd[1], STDERR_FILENO);
    close(pipe_fd[0]);
    if (std::freopen("/dev/null", "w", stdout) == nullptr) _exit(2);
    fn();
    _exit(0);
  }
  close(pipe_fd[1]);
  std::string err;
  char buf[4096];
  for (ssize_t n; (n = read(pipe_fd[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<size_t>(n));
  close(pipe_fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status), err};
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

__global__ void write_coordinates(unsigned* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  out[block * (blockDim.x * blockDim.y * blockDim.z) + thread] = block * 1000 + thread;
}

// Reverses each block's slice through shared memory: correct only with the barrier.
template <bool kSync>
__global__ void reverse_in_block(const int* in, int* out) {
  __shared__ int tile[64];
  const int t = threadIdx.x, base = blockIdx.x * 64;
  tile[t] = in[base + t];
  if (kSync) __syncthreads();
  out[base + t] = tile[63 - t];
}

// Two block-wide sums in a row through one shared array. The barrier after the
// read is what keeps a fast warp from overwriting the array for the second sum
// while slower warps still read the first.
template <bool kSync>
__global__ void two_block_sums(const int* in, int* out) {
  __shared__ int part[4];
  int total = 0;
  for (int round = 0; round < 2; ++round) {
    int v = in[round * 128 + threadIdx.x];
    for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(kFull, v, o);
    if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = v;
    __syncthreads();
    total += part[0] + part[1] + part[2] + part[3];
    if (kSync) __syncthreads();
  }
  out[threadIdx.x] = total;
}

__global__ void warp_ops(const int* in, int* sum_down, int* sum_xor, int* from_lane_5, unsigned* ballot, int* any) {
  const int lane = threadIdx.x % 32;
  const int v = in[threadIdx.x];
  int s = v;
  for (int o = 16; o > 0; o /= 2) s += __shfl_down_sync(kFull, s, o);
  int x = v;
  for (int o = 16; o > 0; o /= 2) x += __shfl_xor_sync(kFull, x, o);
  const int b = __shfl_sync(kFull, v, 5);
  const unsigned bits = __ballot_sync(kFull, v % 2 == 0);
  const int a = __any_sync(kFull, v == 1000);
  if (lane == 0) sum_down[threadIdx.x / 32] = s;
  sum_xor[threadIdx.x] = x;
  from_lane_5[threadIdx.x] = b;
  if (lane == 0) ballot[threadIdx.x / 32] = bits;
  if (lane == 0) any[threadIdx.x / 32] = a;
}

__global__ void read_dynamic_shared(float* out) {
  extern __shared__ float scratch[];
  out[threadIdx.x] = scratch[threadIdx.x];  // never written: the poison
}

__global__ void touch(int* p) { p[threadIdx.x] += 1; }

__global__ void write_one_past(float* p, int n) { p[n] = 1.0f; }

__global__ void write_past_shared(float* out) {
  extern __shared__ float scratch[];
  scratch[blockDim.x] = 1.0f;  // one element past the dynamic shared memory asked for
  out[threadIdx.x] = scratch[threadIdx.x];
}

// Lanes 0-15 vote while lanes 16-31 shuffle: not the same warp intrinsic.
__global__ void mismatched_warp_ops(int* out) {
  if (threadIdx.x < 16) out[threadIdx.x] = __any_sync(kFull, 1);
  else out[threadIdx.x] = __shfl_sync(kFull, 1, 0);
}

// Half of each warp shuffles while the other half waits at __syncthreads: a hang on a GPU.
__global__ void divergent_barrier(int* out) {
  if (threadIdx.x % 32 < 16) {
    out[threadIdx.x] = __shfl_sync(kFull, 1, 0);
  } else {
    __syncthreads();
  }
}

}  // namespace

TEST_CASE("every thread of a 3-d grid of 3-d blocks runs once, with its coordinates") {
  const dim3 grid(3, 2, 2), block(4, 3, 2);
  const size_t n = 12 * 24;
  DeviceBuffer<unsigned> out(n);
  write_coordinates<<<grid, block>>>(out.p);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  const std::vector<unsigned> h = out.to_host();
  for (size_t i = 0; i < n; ++i) CHECK(h[i] == (i / 24) * 1000 + i % 24);
}

TEST_CASE("__syncthreads orders shared memory; without it the emulator shows the race") {
  const int blocks = 4;
  std::vector<int> in(blocks * 64);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int>(i);
  DeviceBuffer<int> din(in.size()), dout(in.size());
  REQUIRE(cudaMemcpyAsync(din.p, in.data(), in.size() * sizeof(int), cudaMemcpyHostToDevice, nullptr) == cudaSuccess);
  std::vector<int> want(in.size());
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < 64; ++t) want[b * 64 + t] = in[b * 64 + 63 - t];

  reverse_in_block<true><<<blocks, 64>>>(din.p, dout.p);
  CHECK(dout.to_host() == want);

  // Threads run in increasing order in even blocks and decreasing order in odd
  // ones, so a read that lacks its barrier sees stale shared memory in one of them.
  reverse_in_block<false><<<blocks, 64>>>(din.p, dout.p);
  CHECK(dout.to_host() != want);
}

TEST_CASE("warps run ahead of each other: a barrier missing between two uses of shared memory shows") {
  std::vector<int> in(256);
  for (int i = 0; i < 256; ++i) in[i] = i < 128 ? 1 : 1000;
  DeviceBuffer<int> din(256), dout(128);
  REQUIRE(cudaMemcpyAsync(din.p, in.data(), 256 * sizeof(int), cudaMemcpyHostToDevice, nullptr) == cudaSuccess);
  two_block_sums<true><<<1, 128>>>(din.p, dout.p);
  for (int v : dout.to_host()) CHECK(v == 128 + 128000);
  two_block_sums<false><<<1, 128>>>(din.p, dout.p);
  int wrong = 0;
  for (int v : dout.to_host()) wrong += v != 128 + 128000;
  CHECK(wrong > 0);
}

TEST_CASE("warp shuffles and votes exchange values between the lanes of a warp") {
  const int threads = 64;
  std::vector<int> in(threads);
  for (int i = 0; i < threads; ++i) in[i] = i * 3 + 1;
  in[40] = 1000;
  DeviceBuffer<int> din(threads), down(2), xr(threads), b5(threads), any(2);
  DeviceBuffer<unsigned> ballot(2);
  REQUIRE(cudaMemcpyAsync(din.p, in.data(), threads * sizeof(int), cudaMemcpyHostToDevice, nullptr) == cudaSuccess);
  warp_ops<<<1, threads>>>(din.p, down.p, xr.p, b5.p, ballot.p, any.p);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  for (int w = 0; w < 2; ++w) {
    int sum = 0;
    unsigned even = 0;
    for (int l = 0; l < 32; ++l) {
      sum += in[w * 32 + l];
      if (in[w * 32 + l] % 2 == 0) even |= 1u << l;
    }
    CHECK(down.to_host()[w] == sum);
    for (int l = 0; l < 32; ++l) CHECK(xr.to_host()[w * 32 + l] == sum);
    for (int l = 0; l < 32; ++l) CHECK(b5.to_host()[w * 32 + l] == in[w * 32 + 5]);
    CHECK(ballot.to_host()[w] == even);
    CHECK(any.to_host()[w] == (w == 1 ? 1 : 0));
  }
}

TEST_CASE("dynamic shared memory starts as NaN bytes, so a read before a write shows") {
  DeviceBuffer<float> out(32);
  read_dynamic_shared<<<1, 32, 32 * sizeof(float)>>>(out.p);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  for (float v : out.to_host()) CHECK(std::isnan(v));
}

TEST_CASE("a launch CUDA would refuse runs nothing and reports cudaErrorInvalidConfiguration") {
  DeviceBuffer<int> p(2048);
  REQUIRE(cudaMemsetAsync(p.p, 0, 2048 * sizeof(int), nullptr) == cudaSuccess);
  touch<<<1, 2048>>>(p.p);  // more than 1024 threads per block
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  touch<<<dim3(1, 70000), 1>>>(p.p);  // grid.y over 65535
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  read_dynamic_shared<<<1, 32, 64 * 1024>>>(reinterpret_cast<float*>(p.p));  // over 48 KiB
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  for (int v : p.to_host()) CHECK(v == 0);
  CHECK(cudaGetLastError() == cudaSuccess);  // read once, then cleared
}

TEST_CASE("copies check their direction and bounds") {
  DeviceBuffer<int> d(64);  // 256 bytes: exactly one allocation unit
  std::vector<int> h(65, 7);
  CHECK(cudaMemcpyAsync(h.data(), d.p, 64 * sizeof(int), cudaMemcpyHostToDevice, nullptr) == cudaErrorInvalidValue);
  CHECK(cudaMemcpyAsync(d.p, h.data(), 65 * sizeof(int), cudaMemcpyHostToDevice, nullptr) == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  h.resize(64);
  CHECK(cudaMemcpyAsync(d.p, h.data(), 64 * sizeof(int), cudaMemcpyHostToDevice, nullptr) == cudaSuccess);
  CHECK(d.to_host() == h);
}

TEST_CASE("kernel arguments are evaluated once, on the host; fresh device memory is NaN bytes") {
  DeviceBuffer<int> p(64);
  int evaluated = 0;
  auto counted = [&] {
    ++evaluated;
    return p.p;
  };
  REQUIRE(cudaMemsetAsync(p.p, 0, 64 * sizeof(int), nullptr) == cudaSuccess);
  touch<<<1, 64>>>(counted());
  CHECK(evaluated == 1);
  for (int v : p.to_host()) CHECK(v == 1);
  auto throws = []() -> int* { throw std::runtime_error("bad argument"); };
  CHECK_THROWS_WITH(touch<<<1, 1>>>(throws()), "bad argument");

  DeviceBuffer<float> fresh(8);
  for (float v : fresh.to_host()) CHECK(std::isnan(v));
}

TEST_CASE("faults a GPU would give: device memory from the host or another device, shared memory overrun") {
  // Each case runs in a child process, which must die; the parent checks how.
  const ChildEnd host_read = in_child([] {
    int* p = nullptr;
    if (cudaMalloc(reinterpret_cast<void**>(&p), 64) != cudaSuccess) _exit(3);
    volatile int v = *p;  // host code dereferencing a device pointer
    (void)v;
  });
  CHECK(host_read.status == 128 + SIGSEGV);
  CHECK(contains(host_read.err, "lucid cuda_emu: memory of device 0"));
  int devices = 0;
  REQUIRE(cudaGetDeviceCount(&devices) == cudaSuccess);
  if (devices >= 2) {
    const ChildEnd other = in_child([] {
      int* p = nullptr;
      if (cudaMalloc(reinterpret_cast<void**>(&p), 64) != cudaSuccess) _exit(3);  // on device 0
      if (cudaSetDevice(1) != cudaSuccess) _exit(3);
      touch<<<1, 4>>>(p);  // a kernel on device 1
    });
    CHECK(other.status == 128 + SIGSEGV);
    CHECK(contains(other.err, "memory of device 0"));
  }
  const ChildEnd overrun = in_child([] {
    float* p = nullptr;
    if (cudaMalloc(reinterpret_cast<void**>(&p), 32 * sizeof(float)) != cudaSuccess) _exit(3);
    write_past_shared<<<1, 32, 32 * sizeof(float)>>>(p);
  });
  CHECK(overrun.status == 128 + SIGSEGV);
}

TEST_CASE("with guard pages a kernel writing past its allocation, or into freed memory, faults") {
  // The mode is chosen when the fake devices start, so CTest runs this case on
  // its own with the variable set (test_cuda_emu_guard); the children start them.
  const char* guard = std::getenv("LUCID_EMU_GUARD_PAGES");
  if (guard == nullptr || std::string(guard) != "1") {
    MESSAGE("skipped here: CTest runs it as test_cuda_emu_guard, with LUCID_EMU_GUARD_PAGES=1");
    return;
  }
  const ChildEnd past = in_child([] {
    float* p = nullptr;
    if (cudaMalloc(reinterpret_cast<void**>(&p), 1000 * sizeof(float)) != cudaSuccess) _exit(3);
    write_one_past<<<1, 1>>>(p, 999);  // inside: fine
    if (cudaGetLastError() != cudaSuccess) _exit(4);
    write_one_past<<<1, 1>>>(p, 1000);  // one float past the end
  });
  CHECK(past.status == 128 + SIGSEGV);
  CHECK(contains(past.err, "memory of device 0"));
  const ChildEnd freed = in_child([] {
    float* p = nullptr;
    float* q = nullptr;
    if (cudaMalloc(reinterpret_cast<void**>(&p), 64 * sizeof(float)) != cudaSuccess) _exit(3);
    if (cudaMalloc(reinterpret_cast<void**>(&q), 64 * sizeof(float)) != cudaSuccess) _exit(3);
    if (cudaFree(p) != cudaSuccess) _exit(3);
    write_one_past<<<1, 1>>>(p, 0);  // use after free
  });
  CHECK(freed.status == 128 + SIGSEGV);
}

TEST_CASE("warps that disagree stop the emulator: a split barrier, different warp intrinsics") {
  const ChildEnd split = in_child([] {
    int* p = nullptr;
    if (cudaMalloc(reinterpret_cast<void**>(&p), 64 * sizeof(int)) != cudaSuccess) _exit(3);
    divergent_barrier<<<1, 64>>>(p);
  });
  CHECK(split.status == 128 + SIGABRT);
  CHECK(contains(split.err, "deadlock in kernel divergent_barrier"));
  const ChildEnd mixed = in_child([] {
    int* p = nullptr;
    if (cudaMalloc(reinterpret_cast<void**>(&p), 32 * sizeof(int)) != cudaSuccess) _exit(3);
    mismatched_warp_ops<<<1, 32>>>(p);
  });
  CHECK(mixed.status == 128 + SIGABRT);
  CHECK(contains(mixed.err, "every lane must execute the same warp intrinsic"));
}
