// Kernel launches on the CPU: every CUDA thread is a fiber, and the threads of
// one block run on the calling host thread, one after another.
//
// A fiber runs until it finishes or reaches a barrier. When every fiber of the
// block is finished or waiting, the scheduler releases a barrier:
//   - a warp barrier (shuffle, vote, __syncwarp) when every live lane of that warp waits at one;
//   - else the block barrier (__syncthreads) when every live thread of the block waits at it;
//   - else nothing can move: a deadlock on a GPU too (a __syncthreads or shuffle that not
//     all threads reach), and the emulator stops with the kernel's name.
// Threads that exited do not hold barriers up (as on Volta and later), but a
// shuffle that reads an exited lane is an error.
//
// Between barriers the order of threads is a choice. Warps run one at a time,
// each as far as it can (through its shuffles, up to __syncthreads): even blocks
// take warps and lanes in increasing order, odd blocks in decreasing order
// (LUCID_EMU_ORDER=forward|reverse|alternate). So a shared-memory read that
// lacks its __syncthreads sees a stale or an early value in one of the orders.
#include <sys/mman.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cuda_emu.h"

namespace lucid_emu {
namespace {

// ---- fibers: a stack and a saved context each ---------------------------------------
// Switching is the hot path (every thread of every block starts and ends with a
// switch), so on x86-64 it is 20 instructions: push the callee-saved registers
// and the float control words, swap stack pointers, pop. ucontext elsewhere
// (correct, but each switch is a system call).
#if defined(__x86_64__)
extern "C" void lucid_emu_switch(void** save_sp, void* load_sp);
asm(R"(
.text
.globl lucid_emu_switch
.type lucid_emu_switch,@function
lucid_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size lucid_emu_switch,.-lucid_emu_switch
.section .note.GNU-stack,"",@progbits
.text
)");

struct Context {
  void* sp = nullptr;
};
// A fresh context on [stack, stack + bytes) that starts in entry(), which must never return.
void make_context(Context& c, char* stack, size_t bytes, void (*entry)()) {
  auto* top = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(stack + bytes) & ~uintptr_t{15});
  uint64_t* sp = top - 2;  // 16-byte aligned: entry() starts with rsp = 8 mod 16, as after a call
  sp[1] = 0;                                  // entry's return address: none
  sp[0] = reinterpret_cast<uint64_t>(entry);  // popped by ret
  sp -= 6;                                    // rbp rbx r12 r13 r14 r15: zero
  for (int i = 0; i < 6; ++i) sp[i] = 0;
  sp -= 1;  // MXCSR and x87 control word: the current ones
  uint32_t mxcsr;
  uint16_t fpcw;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpcw));
  std::memcpy(reinterpret_cast<char*>(sp), &mxcsr, 4);
  std::memcpy(reinterpret_cast<char*>(sp) + 4, &fpcw, 2);
  c.sp = sp;
}
void switch_context(Context& from, Context& to) { lucid_emu_switch(&from.sp, to.sp); }
#else
struct Context {
  ucontext_t uc;
};
void make_context(Context& c, char* stack, size_t bytes, void (*entry)()) {
  getcontext(&c.uc);
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = bytes;
  c.uc.uc_link = nullptr;
  makecontext(&c.uc, entry, 0);
}
void switch_context(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
#endif

constexpr size_t kStackBytes = 128 * 1024;  // per fiber; kernels keep small frames
constexpr size_t kMaxDynamicShared = 48 * 1024;  // without cudaFuncSetAttribute, as on a GPU
constexpr unsigned kFullMask = 0xffffffffu;

enum class State { Ready, AtBlockBarrier, AtWarpBarrier, Done };
// Which warp intrinsic a lane waits in: the lanes of a warp must agree (CUDA:
// every lane named in the mask executes the same intrinsic, equally often).
enum class WarpOp { Shuffle, Vote, Syncwarp };
const char* op_name(WarpOp op) {
  return op == WarpOp::Shuffle ? "a shuffle" : op == WarpOp::Vote ? "a vote" : "__syncwarp";
}

struct Fiber {
  Context context;
  ThreadCoords coords;
  State state = State::Ready;
  uint64_t offer = 0;  // what this lane offers in a warp exchange
  WarpOp op = WarpOp::Shuffle;
  uint64_t warp_ops = 0;  // warp intrinsics this lane has entered
};

// The block being run on this host thread.
struct Block {
  const char* kernel = nullptr;
  void (*body)(void*) = nullptr;
  void* closure = nullptr;
  std::vector<Fiber> fibers;
  int current = -1;
  Context scheduler;
  unsigned char* shared = nullptr;  // dynamic shared memory (GuardedBuffer)
  size_t shared_bytes = 0;
};
thread_local Block* t_block = nullptr;

// Dynamic shared memory: the requested bytes end (16-byte aligned) just before
// a PROT_NONE page, so a kernel that indexes past its shared memory faults.
struct GuardedBuffer {
  char* base = nullptr;
  size_t pages = 0;  // usable pages, the guard page after them
  ~GuardedBuffer() {
    if (base != nullptr) munmap(base, (pages + 1) * 4096);
  }
  unsigned char* get(size_t bytes) {
    const size_t need = (bytes + 16 + 4095) / 4096;
    if (need > pages) {
      if (base != nullptr) munmap(base, (pages + 1) * 4096);
      void* m = mmap(nullptr, (need + 1) * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) fail("cannot map dynamic shared memory");
      base = static_cast<char*>(m);
      pages = need;
      mprotect(base + pages * 4096, 4096, PROT_NONE);
    }
    const uintptr_t end = reinterpret_cast<uintptr_t>(base + pages * 4096);
    return reinterpret_cast<unsigned char*>((end - bytes) & ~uintptr_t{15});
  }
};
thread_local GuardedBuffer t_shared;
thread_local uint64_t t_launches = 0;  // launches on this host thread: alternates the order

// Fiber stacks, reused across launches on this host thread, each with a guard page below.
struct StackPool {
  std::vector<char*> stacks;
  ~StackPool() {
    for (char* s : stacks) munmap(s - 4096, kStackBytes + 4096);
  }
  char* get(size_t i) {
    while (stacks.size() <= i) {
      void* m = mmap(nullptr, kStackBytes + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
      if (m == MAP_FAILED) fail("cannot map a fiber stack");
      mprotect(m, 4096, PROT_NONE);
      stacks.push_back(static_cast<char*>(m) + 4096);
    }
    return stacks[i];
  }
};
thread_local StackPool t_stacks;

Block& block() {
  if (t_block == nullptr || t_block->current < 0) fail("a barrier or warp intrinsic was called outside a kernel");
  return *t_block;
}
Fiber& me() { return block().fibers[block().current]; }

std::string where(const Block& b) {
  const ThreadCoords& c = b.fibers[b.current].coords;
  return std::string("kernel ") + b.kernel + ", block (" + std::to_string(c.block_idx.x) + "," +
         std::to_string(c.block_idx.y) + "," + std::to_string(c.block_idx.z) + "), thread (" +
         std::to_string(c.thread_idx.x) + "," + std::to_string(c.thread_idx.y) + "," +
         std::to_string(c.thread_idx.z) + ")";
}

// Where every fiber starts; it ends by switching back to the scheduler for good.
void fiber_main() {
  Block& b = *t_block;
  b.body(b.closure);
  Fiber& f = b.fibers[b.current];
  f.state = State::Done;
  switch_context(f.context, b.scheduler);
  fail("a finished fiber was resumed");
}

// Suspends the running fiber until the scheduler releases the barrier it waits at.
void wait_at(State s) {
  Block& b = block();
  Fiber& f = b.fibers[b.current];
  f.state = s;
  switch_context(f.context, b.scheduler);
}

// Whether every live lane of fibers [first, last) waits at a warp barrier; they
// must then all be in the same intrinsic, the same number of times.
bool warp_waits(const Block& b, int first, int last) {
  const Fiber* any = nullptr;
  for (int i = first; i < last; ++i) {
    const Fiber& f = b.fibers[i];
    if (f.state == State::Done) continue;
    if (f.state != State::AtWarpBarrier) return false;
    if (any != nullptr && (f.op != any->op || f.warp_ops != any->warp_ops)) {
      const ThreadCoords& c = b.fibers[first].coords;
      fail(std::string("kernel ") + b.kernel + ", block (" + std::to_string(c.block_idx.x) + "," +
           std::to_string(c.block_idx.y) + "," + std::to_string(c.block_idx.z) + "), warp " +
           std::to_string(first / 32) + ": lane " + std::to_string((any - &b.fibers[first])) + " waits in " +
           op_name(any->op) + " (its warp intrinsic #" + std::to_string(any->warp_ops) + "), lane " +
           std::to_string(i - first) + " in " + op_name(f.op) + " (#" + std::to_string(f.warp_ops) +
           "): every lane must execute the same warp intrinsic (undefined on a GPU)");
    }
    any = &f;
  }
  return any != nullptr;
}

// Releases the warp barrier of fibers [first, last) if every live lane waits at it.
bool release_warp(Block& b, int first, int last) {
  if (!warp_waits(b, first, last)) return false;
  for (int i = first; i < last; ++i)
    if (b.fibers[i].state == State::AtWarpBarrier) b.fibers[i].state = State::Ready;
  return true;
}

// Releases the barriers that every live thread concerned has reached; false
// when all threads are done. A block where nothing can move is a deadlock.
bool release(Block& b) {
  const int n = static_cast<int>(b.fibers.size());
  bool any_live = false, released = false;
  for (int w = 0; w * 32 < n; ++w) {
    const int first = w * 32, last = std::min(n, first + 32);
    for (int i = first; i < last; ++i) any_live |= b.fibers[i].state != State::Done;
    released |= release_warp(b, first, last);
  }
  if (!any_live) return false;
  if (released) return true;
  bool all_block = true;
  for (const Fiber& f : b.fibers)
    if (f.state != State::Done && f.state != State::AtBlockBarrier) all_block = false;
  if (all_block) {
    for (Fiber& f : b.fibers)
      if (f.state == State::AtBlockBarrier) f.state = State::Ready;
    return true;
  }
  int at_block = 0, at_warp = 0, done = 0;
  for (const Fiber& f : b.fibers) {
    at_block += f.state == State::AtBlockBarrier;
    at_warp += f.state == State::AtWarpBarrier;
    done += f.state == State::Done;
  }
  const ThreadCoords& c = b.fibers[0].coords;
  fail(std::string("deadlock in kernel ") + b.kernel + ", block (" + std::to_string(c.block_idx.x) + "," +
       std::to_string(c.block_idx.y) + "," + std::to_string(c.block_idx.z) + "): " + std::to_string(at_block) +
       " threads wait at __syncthreads, " + std::to_string(at_warp) + " at a warp shuffle/vote, " +
       std::to_string(done) + " have exited; a barrier must be reached by every live thread of its block or warp");
}

enum class Order { Forward, Reverse, Alternate };
Order order_from_env() {
  const char* e = std::getenv("LUCID_EMU_ORDER");
  if (e == nullptr || std::strcmp(e, "alternate") == 0) return Order::Alternate;
  if (std::strcmp(e, "forward") == 0) return Order::Forward;
  if (std::strcmp(e, "reverse") == 0) return Order::Reverse;
  fail(std::string("LUCID_EMU_ORDER must be forward, reverse or alternate, got ") + e);
}

void run_block(Block& b, bool reverse) {
  const int n = static_cast<int>(b.fibers.size());
  for (int i = 0; i < n; ++i) {
    Fiber& f = b.fibers[i];
    f.state = State::Ready;
    make_context(f.context, t_stacks.get(i), kStackBytes, fiber_main);
  }
  if (b.shared_bytes > 0) std::memset(b.shared, 0xFF, b.shared_bytes);
  const int warps = (n + 31) / 32;
  do {
    // Warp by warp, each as far as it can go: through its own shuffles, up to
    // __syncthreads or its end. One warp racing ahead of the others is what
    // exposes a missing __syncthreads between two uses of shared memory.
    for (int wk = 0; wk < warps; ++wk) {
      const int w = reverse ? warps - 1 - wk : wk;
      const int first = w * 32, last = std::min(n, first + 32);
      for (bool again = true; again;) {
        for (int k = first; k < last; ++k) {
          const int i = reverse ? first + last - 1 - k : k;
          if (b.fibers[i].state != State::Ready) continue;
          b.current = i;
          current_thread = &b.fibers[i].coords;
          switch_context(b.scheduler, b.fibers[i].context);
        }
        again = release_warp(b, first, last);
      }
    }
  } while (release(b));
  b.current = -1;
  current_thread = nullptr;
}

bool valid_geometry(const LaunchConfig& cfg) {
  const dim3 g = cfg.grid, t = cfg.block;
  const uint64_t threads = uint64_t{t.x} * t.y * t.z;
  return threads >= 1 && threads <= 1024 && t.x <= 1024 && t.y <= 1024 && t.z <= 64 && g.x >= 1 &&
         g.x <= 0x7fffffffu && g.y >= 1 && g.y <= 65535 && g.z >= 1 && g.z <= 65535 &&
         cfg.shared_bytes <= kMaxDynamicShared;
}

}  // namespace

void run_grid(const char* kernel, const LaunchConfig& cfg, void (*body)(void*), void* closure) {
  if (t_block != nullptr) fail(std::string("kernel ") + kernel + " launched from inside kernel " + t_block->kernel);
  if (!valid_geometry(cfg)) {
    set_last_error(cudaErrorInvalidConfiguration);
    return;
  }
  const int device = current_device();
  const int stream_dev = stream_device(cfg.stream);
  if (stream_dev != device) {
    // A stream of another device (or a destroyed one): CUDA refuses the launch.
    set_last_error(cudaErrorInvalidResourceHandle);
    return;
  }
  static const Order order = order_from_env();
  DeviceScope memory(device);  // this device's memory only

  Block b;
  b.kernel = kernel;
  b.body = body;
  b.closure = closure;
  const dim3 t = cfg.block;
  b.fibers.resize(size_t{t.x} * t.y * t.z);
  b.shared_bytes = cfg.shared_bytes;
  if (b.shared_bytes > 0) b.shared = t_shared.get(b.shared_bytes);
  for (unsigned z = 0, i = 0; z < t.z; ++z)
    for (unsigned y = 0; y < t.y; ++y)
      for (unsigned x = 0; x < t.x; ++x, ++i) b.fibers[i].coords = {{x, y, z}, {0, 0, 0}, cfg.block, cfg.grid};
  t_block = &b;
  uint64_t linear = t_launches++;  // so that a one-block launch alternates too
  for (unsigned bz = 0; bz < cfg.grid.z; ++bz)
    for (unsigned by = 0; by < cfg.grid.y; ++by)
      for (unsigned bx = 0; bx < cfg.grid.x; ++bx, ++linear) {
        for (Fiber& f : b.fibers) f.coords.block_idx = {bx, by, bz};
        const bool reverse = order == Order::Reverse || (order == Order::Alternate && linear % 2 == 1);
        run_block(b, reverse);
      }
  t_block = nullptr;
}

void* dynamic_shared_memory() { return block().shared; }

void block_barrier() { wait_at(State::AtBlockBarrier); }
void warp_barrier() { wait_at(State::AtWarpBarrier); }

void require_full_width(int width) {
  if (width != 32) fail(where(block()) + ": a shuffle of width " + std::to_string(width) + " (the emulator supports 32)");
}

void warp_sync(unsigned mask) {
  if (mask != kFullMask) fail(where(block()) + ": __syncwarp with a partial mask (the emulator supports full warps)");
  me().op = WarpOp::Syncwarp;
  ++me().warp_ops;
  warp_barrier();
}

int lane_id() { return block().current % 32; }

uint64_t warp_exchange(unsigned mask, uint64_t bits, int src) {
  Block& b = block();
  if (mask != kFullMask) fail(where(b) + ": a warp intrinsic with a partial mask (the emulator supports full warps)");
  me().op = WarpOp::Shuffle;
  ++me().warp_ops;
  me().offer = bits;
  warp_barrier();  // every live lane has made its offer
  uint64_t got = bits;
  if (src >= 0) {
    const int from = (b.current / 32) * 32 + src;
    if (from >= static_cast<int>(b.fibers.size()) || b.fibers[from].state == State::Done)
      fail(where(b) + ": a warp shuffle reads lane " + std::to_string(src) +
           ", which has exited or does not exist (undefined on a GPU)");
    got = b.fibers[from].offer;
  }
  warp_barrier();  // every lane has read before any lane offers again
  return got;
}

unsigned warp_ballot(unsigned mask, bool pred) {
  Block& b = block();
  if (mask != kFullMask) fail(where(b) + ": a warp vote with a partial mask (the emulator supports full warps)");
  me().op = WarpOp::Vote;
  ++me().warp_ops;
  me().offer = pred ? 1 : 0;
  warp_barrier();
  unsigned bits = 0;
  const int first = (b.current / 32) * 32;
  for (int l = 0; l < 32 && first + l < static_cast<int>(b.fibers.size()); ++l) {
    const Fiber& f = b.fibers[first + l];
    if (f.state != State::Done && f.offer != 0) bits |= 1u << l;
  }
  warp_barrier();
  return bits;
}

}  // namespace lucid_emu
