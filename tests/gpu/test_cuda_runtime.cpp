// The CUDA runtime: devices, streams, events, copies between devices, pinned
// memory, the caching allocator's statistics and the errors for bad calls.
#include <doctest/doctest.h>

#include <lucid/lucid.h>

using namespace lucid;

namespace {
Device gpu() { return Device(kCUDA, 0); }
}  // namespace

TEST_CASE("devices, guards and synchronize") {
  REQUIRE(cuda::device_count() >= 1);
  CHECK(cuda::unavailable_reason().empty());
  {
    cuda::DeviceGuard g(0);
    CHECK(cuda::current_device() == 0);
  }
  cuda::synchronize();
  CHECK_THROWS_AS(cuda::set_device(cuda::device_count()), Error);
}

TEST_CASE("round trips to the GPU keep every dtype's values, in any layout") {
  for (ScalarType t : {kFloat32, kFloat64, kFloat16, kBFloat16, kInt64, kInt32, kUInt8, kBool}) {
    const std::string name = dtype_name(t);  // a std::string: CAPTURE prints a char* as a pointer
    CAPTURE(name);
    Tensor x = randint(0, 2, {7, 13}, kInt64).to(t);   // 0/1: exact in every dtype
    if (t != kBool) x = randint(0, 100, {7, 13}, kInt64).to(t);
    Tensor back = x.cuda().cpu();
    CHECK(back.dtype() == t);
    CHECK(allclose(back.to(kFloat64), x.to(kFloat64), 0, 0));
    // non-contiguous source and destination
    Tensor xt = x.t();
    Tensor g = xt.cuda();
    CHECK(g.is_cuda());
    CHECK(allclose(g.cpu().to(kFloat64), xt.to(kFloat64), 0, 0));
    Tensor dst = zeros({13, 7}, TensorOptions(t).device(gpu()));
    dst.copy_(xt);
    CHECK(allclose(dst.cpu().to(kFloat64), xt.to(kFloat64), 0, 0));
    Tensor host = zeros({7, 13}, t).t();
    host.copy_(g);
    CHECK(allclose(host.to(kFloat64), xt.to(kFloat64), 0, 0));
  }
}

TEST_CASE("copy_ converts dtypes and broadcasts across devices; to() is differentiable") {
  Tensor x = randn({5, 1});
  Tensor dst = empty({5, 3}, TensorOptions(kFloat64).device(gpu()));
  dst.copy_(x);
  CHECK(allclose(dst.cpu(), x.to(kFloat64).expand({5, 3})));

  Tensor w = randn({4, 3}, requires_grad());
  Tensor loss = (w.cuda() * 2.0).sum();
  loss.backward();
  REQUIRE(w.grad().defined());
  CHECK(w.grad().is_cpu());
  CHECK(allclose(w.grad(), full({4, 3}, 2.0)));
}

TEST_CASE("pinned memory: non-blocking copies, then a synchronize") {
  Tensor x = randn({1000}).pin_memory();
  CHECK(x.is_pinned());
  CHECK(!randn({3}).is_pinned());
  Tensor g = x.to(gpu(), /*non_blocking=*/true);
  Tensor back = empty({1000}, TensorOptions().pinned_memory());
  back.copy_(g, /*non_blocking=*/true);
  cuda::synchronize();
  CHECK(allclose(back, x, 0, 0));
}

TEST_CASE("pinned blocks are cached, and not reused while a copy still reads them") {
  const int64_t n = 1 << 22;  // 16 MiB of float32: a copy that takes a while
  Tensor expected = randn({n});
  Tensor on_gpu;
  void* first = nullptr;
  {
    Tensor src = expected.pin_memory();
    first = src.storage()->data();
    on_gpu = src.to(Device(kCUDA, 0), /*non_blocking=*/true);
  }  // src dies with the copy maybe still in flight
  Tensor other = full({n}, 3.0, TensorOptions().pinned_memory());  // same size class
  if (other.storage()->data() == first) MESSAGE("the copy had finished: the block was reused at once");
  cuda::synchronize();
  CHECK(allclose(on_gpu.cpu(), expected, 0, 0));  // never overwritten by the 3s
  void* other_block = other.storage()->data();
  other = Tensor();
  // after the copy both blocks are free again: a new pinned tensor of that size
  // gets one of them back, with no cudaHostAlloc
  Tensor again = empty({n}, TensorOptions().pinned_memory());
  CHECK((again.storage()->data() == first || again.storage()->data() == other_block));
}

TEST_CASE("streams and events order and time work") {
  cuda::Stream s = cuda::Stream::create();
  CHECK(!(s == cuda::current_stream()));
  Tensor a = randn({512, 512}).cuda();
  cuda::Event start, stop;
  {
    cuda::StreamGuard sg(s);
    CHECK(cuda::current_stream() == s);
    start.record();
    Tensor b = a.clone();
    for (int i = 0; i < 10; ++i) b.copy_(a);
    stop.record();
    stop.synchronize();
    CHECK(stop.query());
    CHECK(s.query());
    CHECK(start.elapsed_time(stop) >= 0.0f);
    CHECK(allclose(b.cpu(), a.cpu(), 0, 0));
  }
  CHECK(cuda::current_stream() == cuda::Stream::default_stream());
}

TEST_CASE("allocator statistics are exact: allocate, free, peak, reserve, empty_cache") {
  // Blocks are size classes (4000 -> 4096 bytes, 3 MiB -> 4 MiB) that stay
  // reserved when freed; with LUCID_NO_CUDA_MEMORY_CACHING=1 (memory checkers)
  // they are the exact request and are returned at once.
  const bool caching = cuda::detail::memory_caching_enabled();
  const int64_t small = caching ? 4096 : 4000, large = caching ? (4 << 20) : (3 << 20);
  cuda::synchronize();
  cuda::empty_cache();
  cuda::reset_peak_memory_stats();
  const int64_t base = cuda::memory_allocated();
  {
    Tensor t = empty({1000}, TensorOptions().device(gpu()));  // 4000 bytes
    CHECK(cuda::memory_allocated() == base + small);
    CHECK(memory_allocated(gpu()) == base + small);
    CHECK(cuda::max_memory_allocated() == base + small);
    Tensor u = empty({3 << 20}, TensorOptions(kUInt8).device(gpu()));  // 3 MiB
    CHECK(cuda::memory_allocated() == base + small + large);
  }
  CHECK(cuda::memory_allocated() == base);
  CHECK(cuda::max_memory_allocated() == base + small + large);
  if (caching) {
    CHECK(cuda::memory_reserved() >= base + small + large);  // cached, not returned
    Tensor again = empty({1000}, TensorOptions().device(gpu()));  // reuses the cached block
    CHECK(cuda::memory_reserved() >= base + small + large);
  } else {
    CHECK(cuda::memory_reserved() == cuda::memory_allocated());
  }
  cuda::reset_peak_memory_stats();
  CHECK(cuda::max_memory_allocated() == base);
  cuda::empty_cache();
  CHECK(cuda::memory_reserved() == base);
}

TEST_CASE("out of memory is a lucid::Error naming the request and the pools") {
  const int64_t before = cuda::memory_allocated();
  try {
    (void)empty({int64_t{1} << 50}, TensorOptions(kUInt8).device(gpu()));  // 1 PiB
    FAIL("expected out of memory");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("out of memory") != std::string::npos);
    CHECK(msg.find("1125899906842624 bytes") != std::string::npos);
    CHECK(msg.find("cuda:0") != std::string::npos);
    CHECK(msg.find("bytes reserved") != std::string::npos);
  }
  CHECK(cuda::memory_allocated() == before);
  Tensor ok = ones({10}).cuda();  // the device still works
  CHECK(ok.sum().item<float>() == 10.0f);
}

TEST_CASE("mixing devices in one op is a clear error") {
  Tensor a = ones({3}).cuda();
  Tensor b = ones({3});
  try {
    (void)(a + b);
    FAIL("expected a device error");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("cuda:0") != std::string::npos);
    CHECK(msg.find("cpu") != std::string::npos);
  }
  CHECK_THROWS_AS((void)matmul(ones({2, 2}).cuda(), ones({2, 2})), Error);
}

TEST_CASE("item and printing read from the GPU") {
  Tensor x = full({1}, 2.5).cuda();
  CHECK(x.item<double>() == 2.5);
  const std::string s = x.str();
  CHECK(s.find("2.5") != std::string::npos);
  CHECK(s.find("device='cuda:0'") != std::string::npos);
}
