// The fake devices' memory: one reserved address range per device, closed
// (PROT_NONE) while host code runs, opened by a DeviceScope for kernels, copies
// and the fake libraries. A fault inside a closed range is reported as what it
// is: host code (or a kernel of another device) touching device memory.
//
// Inside a range, allocations are first-fit from a free list, 256-byte aligned
// (cudaMalloc's guarantee), and freed pages go back to the system.
//
// Guard pages (LUCID_EMU_GUARD_PAGES=1): each allocation gets whole pages of its
// own and ends (16-byte aligned) just before a page that is never opened; opening
// a device opens only live allocations. A kernel that runs past its allocation,
// or touches freed memory, then faults: compute-sanitizer's memcheck, on the CPU.
// With LUCID_NO_CUDA_MEMORY_CACHING=1 every tensor is its own allocation, so the
// bound is the tensor's. Slower: one mprotect per allocation per launch.
#include <execinfo.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "emu_runtime.h"

namespace lucid_emu {
namespace {

constexpr size_t kAlign = 256;
constexpr size_t kPage = 4096;

struct Allocation {
  size_t start;      // offset of the bytes taken from the range (with guard mode: pages)
  size_t size;       // bytes taken (a multiple of kAlign, or of kPage with the guard page)
  size_t requested;  // bytes cudaMalloc was asked for: copies may not go past them
};

struct Device {
  char* base = nullptr;
  size_t reserved = 0;                    // bytes of address space
  std::map<size_t, size_t> free_at;       // offset -> bytes, coalesced
  std::map<size_t, Allocation> used_at;   // offset handed out -> allocation
  size_t in_use = 0;
  int open_scopes = 0;
};

struct Memory {
  std::mutex mutex;
  std::vector<Device> devices;
  size_t capacity = 0;
  bool guard_pages = false;
};

size_t env_size(const char* name, size_t fallback) {
  const char* e = std::getenv(name);
  if (e == nullptr || *e == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(e, &end, 10);
  if (*end != '\0' || v == 0) fail(std::string(name) + " must be a positive integer, got '" + e + "'");
  return v;
}

struct sigaction g_previous_segv;
struct Memory* g_memory = nullptr;  // for the signal handler

void on_segv(int sig, siginfo_t* info, void* uctx);

Memory& memory() {
  static Memory* m = [] {
    auto* mem = new Memory;  // never destroyed: kernels may run during static destruction
    const size_t n = env_size("LUCID_EMU_DEVICES", 2);
    mem->capacity = env_size("LUCID_EMU_MEMORY_GIB", 16) << 30;
    const char* guard = std::getenv("LUCID_EMU_GUARD_PAGES");
    mem->guard_pages = guard != nullptr && std::string(guard) == "1";
    mem->devices.resize(n);
    for (Device& d : mem->devices) {
      d.reserved = 4 * mem->capacity;  // room for fragmentation
      void* p = mmap(nullptr, d.reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED) fail("cannot reserve address space for a fake device");
      d.base = static_cast<char*>(p);
      d.free_at[0] = d.reserved;
      // 2 MiB pages where the kernel allows them: opening and closing the range
      // (mprotect, twice per launch) then costs 512 times fewer page-table entries.
      // Not with guard pages, which protect single pages.
      if (!mem->guard_pages) madvise(p, d.reserved, MADV_HUGEPAGE);
    }
    struct sigaction sa = {};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    g_memory = mem;
    sigaction(SIGSEGV, &sa, &g_previous_segv);
    return mem;
  }();
  return *m;
}

int device_index_of(const Memory& m, const void* p) {
  const char* c = static_cast<const char*>(p);
  for (size_t i = 0; i < m.devices.size(); ++i)
    if (c >= m.devices[i].base && c < m.devices[i].base + m.devices[i].reserved) return static_cast<int>(i);
  return -1;
}

// A fault at an address of a fake device is lucid's bug: say so, then let the
// previous handler (doctest's, which names the test case) or the default act.
void on_segv(int sig, siginfo_t* info, void* uctx) {
  // si_code <= 0: sent by kill/raise (a chained handler re-raising), no fault address.
  const int dev = g_memory != nullptr && info->si_code > 0 ? device_index_of(*g_memory, info->si_addr) : -1;
  if (dev >= 0) {
    char msg[256];
    const int len = std::snprintf(msg, sizeof msg,
                                  "\nlucid cuda_emu: memory of device %d (address %p) was touched outside a "
                                  "DeviceScope: host code dereferenced a device pointer, a kernel of another "
                                  "device read it, or (with guard pages) a kernel ran past its allocation or "
                                  "into freed memory. Backtrace:\n",
                                  dev, info->si_addr);
    if (write(STDERR_FILENO, msg, static_cast<size_t>(len)) < 0) {
    }
    void* frames[48];
    backtrace_symbols_fd(frames, backtrace(frames, 48), STDERR_FILENO);
  }
  if (g_previous_segv.sa_flags & SA_SIGINFO) {
    g_previous_segv.sa_sigaction(sig, info, uctx);
  } else if (g_previous_segv.sa_handler != SIG_DFL && g_previous_segv.sa_handler != SIG_IGN) {
    g_previous_segv.sa_handler(sig);
  }
  signal(SIGSEGV, SIG_DFL);
  raise(SIGSEGV);
}

// Test frameworks (doctest) install their own SIGSEGV handler per test case and
// put theirs back after it: so before each use, make sure on_segv comes first,
// chaining to whatever handler it found.
void keep_segv_handler() {
  struct sigaction current = {};
  sigaction(SIGSEGV, nullptr, &current);
  if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_segv) return;
  struct sigaction sa = {};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_previous_segv);
}

void protect(char* p, size_t bytes, int prot) {
  if (mprotect(p, bytes, prot) != 0) fail("mprotect failed on a fake device's memory");
}

// The usable pages of a guarded allocation (all but its guard page).
size_t usable_bytes(const Allocation& a) { return a.size - kPage; }

void set_open(Device& d, bool open) {
  if (!open || !g_memory->guard_pages) {
    protect(d.base, d.reserved, open ? PROT_READ | PROT_WRITE : PROT_NONE);
    return;
  }
  for (const auto& [off, a] : d.used_at) protect(d.base + a.start, usable_bytes(a), PROT_READ | PROT_WRITE);
}

}  // namespace

DeviceScope::DeviceScope(int device) : device_(device) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  keep_segv_handler();
  for (size_t i = 0; i < m.devices.size(); ++i)
    if (device < 0 || static_cast<size_t>(device) == i)
      if (m.devices[i].open_scopes++ == 0) set_open(m.devices[i], true);
}

DeviceScope::~DeviceScope() {
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  for (size_t i = 0; i < m.devices.size(); ++i)
    if (device_ < 0 || static_cast<size_t>(device_) == i)
      if (--m.devices[i].open_scopes == 0) set_open(m.devices[i], false);
}

int device_of(const void* p) { return device_index_of(memory(), p); }

int device_count() { return static_cast<int>(memory().devices.size()); }
size_t device_capacity() { return memory().capacity; }

size_t device_bytes_in_use(int device) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  return m.devices.at(static_cast<size_t>(device)).in_use;
}

void* device_allocate(int device, size_t bytes) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  Device& d = m.devices.at(static_cast<size_t>(device));
  keep_segv_handler();
  if (bytes > m.capacity) return nullptr;
  // With guard pages: whole pages, the bytes ending 16-byte aligned before the guard.
  const size_t tail = (bytes + 15) / 16 * 16;
  const size_t size = m.guard_pages ? ((tail + kPage - 1) / kPage + 1) * kPage : (bytes + kAlign - 1) / kAlign * kAlign;
  if (d.in_use + size > m.capacity) return nullptr;
  for (auto it = d.free_at.begin(); it != d.free_at.end(); ++it) {
    if (it->second < size) continue;
    const size_t start = it->first, left = it->second - size;
    d.free_at.erase(it);
    if (left > 0) d.free_at[start + size] = left;
    const Allocation a{start, size, bytes};
    const size_t off = m.guard_pages ? start + usable_bytes(a) - tail : start;
    d.used_at[off] = a;
    d.in_use += size;
    // New device memory holds garbage on a GPU: here 0xFF bytes (NaN in every
    // float type), so a kernel reading what nobody wrote shows it.
    if (m.guard_pages) {  // its own pages: open them alone (and keep them open inside a scope)
      protect(d.base + start, usable_bytes(a), PROT_READ | PROT_WRITE);
      std::memset(d.base + start, 0xFF, usable_bytes(a));
      if (d.open_scopes == 0) protect(d.base + start, usable_bytes(a), PROT_NONE);
    } else {
      if (d.open_scopes == 0) set_open(d, true);
      std::memset(d.base + start, 0xFF, size);
      if (d.open_scopes == 0) set_open(d, false);
    }
    return d.base + off;
  }
  return nullptr;
}

bool device_release(void* p) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  const int dev = device_index_of(m, p);
  if (dev < 0) return false;
  Device& d = m.devices[static_cast<size_t>(dev)];
  const size_t off = static_cast<size_t>(static_cast<char*>(p) - d.base);
  auto used = d.used_at.find(off);
  if (used == d.used_at.end()) return false;
  size_t start = used->second.start, size = used->second.size;
  d.used_at.erase(used);
  d.in_use -= size;
  // Freed memory closes at once with guard pages: a later use faults.
  if (m.guard_pages) protect(d.base + start, size, PROT_NONE);
  // Give whole pages back (they read as zeros when reused).
  const size_t page_lo = (start + kPage - 1) / kPage * kPage, page_hi = (start + size) / kPage * kPage;
  if (page_hi > page_lo) madvise(d.base + page_lo, page_hi - page_lo, MADV_DONTNEED);
  // Coalesce with the free neighbours.
  auto next = d.free_at.lower_bound(start);
  if (next != d.free_at.end() && next->first == start + size) {
    size += next->second;
    next = d.free_at.erase(next);
  }
  if (next != d.free_at.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      size += prev->second;
      d.free_at.erase(prev);
    }
  }
  d.free_at[start] = size;
  return true;
}

bool device_range_valid(const void* p, size_t bytes) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  const int dev = device_index_of(m, p);
  if (dev < 0) return false;
  const Device& d = m.devices[static_cast<size_t>(dev)];
  const size_t off = static_cast<size_t>(static_cast<const char*>(p) - d.base);
  auto it = d.used_at.upper_bound(off);
  if (it == d.used_at.begin()) return false;
  --it;
  const size_t end = it->first + it->second.requested;
  return off < end && bytes <= end - off;
}

void fail(const std::string& what) {
  std::fprintf(stderr, "lucid cuda_emu: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace lucid_emu
