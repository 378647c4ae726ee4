// Device checks: an op given tensors on different devices throws a lucid::Error
// naming the op and both devices before it reads any data; an op given only
// CUDA tensors (this build has no CUDA backend) also throws without reading.
// And the attention mask's shape rule.
//
// The CUDA tensors are from_blob wrappers labelled cuda:0 around an address no
// one may read: a read faults (SEGV), and ASan names the reader.
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <string>

#include <lucid/lucid.h>

using namespace lucid;
using namespace lucid::nn::functional;

namespace {

// Not memory: any read of a tensor over it faults.
void* const kUnreadable = reinterpret_cast<void*>(std::uintptr_t{64});

// A tensor labelled cuda:0, of the given shape and dtype, that owns no memory.
Tensor on_cuda(const Shape& shape, ScalarType dtype = kFloat32) {
  return from_blob(kUnreadable, shape, TensorOptions(dtype).device(Device(kCUDA, 0)));
}

// f throws a lucid::Error whose message names `op` and "cuda:0".
void expect_device_error(const std::string& op, const std::function<void()>& f) {
  std::string message = "(nothing thrown)";
  try {
    f();
  } catch (const Error& e) {
    message = e.what();
  }
  CAPTURE(op);
  CAPTURE(message);
  CHECK(message.find(op + ":") != std::string::npos);
  CHECK(message.find("cuda:0") != std::string::npos);
}

}  // namespace

TEST_CASE("from_blob makes a non-owning tensor labelled cuda:0") {
  Tensor t = on_cuda({2, 3});
  CHECK(t.device() == Device(kCUDA, 0));
  CHECK(t.device().str() == "cuda:0");
  CHECK(t.sizes() == Shape{2, 3});
  CHECK(t.dtype() == kFloat32);
}

TEST_CASE("losses: target, weight and pos_weight must be on the input's device") {
  const Tensor x = randn({3, 4}), t = zeros({3}, kInt64), w = ones({4});
  expect_device_error("cross_entropy", [&] { cross_entropy(x, on_cuda({3}, kInt64)); });
  expect_device_error("cross_entropy", [&] { cross_entropy(x, t, on_cuda({4})); });
  expect_device_error("cross_entropy", [&] { cross_entropy(on_cuda({3, 4}), t); });
  expect_device_error("nll_loss", [&] { nll_loss(x, on_cuda({3}, kInt64)); });
  expect_device_error("nll_loss", [&] { nll_loss(x, t, on_cuda({4})); });
  expect_device_error("nll_loss", [&] { nll_loss(on_cuda({3, 4}), t, w); });

  const Tensor y = rand({3, 4});
  expect_device_error("mse_loss", [&] { mse_loss(x, on_cuda({3, 4})); });
  expect_device_error("mse_loss", [&] { mse_loss(on_cuda({3, 4}), y); });
  const char* bce = "binary_cross_entropy_with_logits";
  expect_device_error(bce, [&] { binary_cross_entropy_with_logits(x, on_cuda({3, 4})); });
  expect_device_error(bce, [&] {
    binary_cross_entropy_with_logits(x, y, on_cuda({4}));
  });
  expect_device_error(bce, [&] {
    binary_cross_entropy_with_logits(x, y, Tensor(), Reduction::Mean, on_cuda({4}));
  });
}

TEST_CASE("index ops: index and weight must be on the input's device") {
  const Tensor x = randn({3, 4});
  expect_device_error("index_select", [&] { index_select(x, 1, on_cuda({2}, kInt64)); });
  expect_device_error("index_select", [&] { index_select(on_cuda({3, 4}), 1, zeros({2}, kInt64)); });
  expect_device_error("gather", [&] { gather(x, 1, on_cuda({3, 2}, kInt64)); });
  expect_device_error("gather", [&] { gather(on_cuda({3, 4}), 1, zeros({3, 2}, kInt64)); });
  expect_device_error("embedding", [&] { embedding(zeros({5}, kInt64), on_cuda({10, 4})); });
  expect_device_error("embedding", [&] { embedding(on_cuda({5}, kInt64), randn({10, 4})); });
}

TEST_CASE("cat and stack: all tensors on one device") {
  const Tensor a = randn({2, 3});
  expect_device_error("cat", [&] { cat({a, on_cuda({2, 3})}); });
  expect_device_error("cat", [&] { cat({on_cuda({2, 3}), a}, 1); });
  expect_device_error("stack", [&] { stack({a, a, on_cuda({2, 3})}); });
  expect_device_error("stack", [&] { stack({on_cuda({2, 3}), a}, 1); });
}

TEST_CASE("conv2d and the norms: parameters on the input's device") {
  const Tensor x = randn({1, 2, 5, 5}), w = randn({3, 2, 3, 3});
  expect_device_error("conv2d", [&] { conv2d(x, on_cuda({3, 2, 3, 3})); });
  expect_device_error("conv2d", [&] { conv2d(x, w, on_cuda({3})); });
  expect_device_error("conv2d", [&] { conv2d(on_cuda({1, 2, 5, 5}), w); });
  // a non-contiguous CUDA input: no copy is attempted before the check
  expect_device_error("conv2d", [&] { conv2d(on_cuda({1, 2, 5, 5}).transpose(2, 3), w); });

  const Tensor b = randn({4, 2, 3}), rm = zeros({2}), rv = ones({2});
  expect_device_error("batch_norm", [&] { batch_norm(b, rm, rv, on_cuda({2})); });
  expect_device_error("batch_norm", [&] { batch_norm(b, rm, rv, Tensor(), on_cuda({2})); });
  expect_device_error("batch_norm", [&] { batch_norm(b, on_cuda({2}), rv); });
  expect_device_error("batch_norm", [&] { batch_norm(b, rm, on_cuda({2}), Tensor(), Tensor(), false); });
  expect_device_error("layer_norm", [&] { layer_norm(b, {3}, on_cuda({3})); });
  expect_device_error("layer_norm", [&] { layer_norm(b, {3}, Tensor(), on_cuda({3})); });
}

TEST_CASE("matrix products: both operands on one device") {
  const Tensor a = randn({2, 3}), w = randn({4, 3});
  expect_device_error("matmul", [&] { matmul(a, on_cuda({3, 4})); });
  expect_device_error("matmul", [&] { matmul(on_cuda({2, 3}), randn({3, 4})); });
  expect_device_error("mm", [&] { mm(a, on_cuda({3, 4})); });
  expect_device_error("bmm", [&] { bmm(randn({2, 2, 3}), on_cuda({2, 3, 4})); });
  expect_device_error("linear", [&] { linear(a, on_cuda({4, 3})); });
  expect_device_error("linear", [&] { linear(a, w, on_cuda({4})); });
  expect_device_error("linear", [&] { linear(on_cuda({2, 3}), w); });
}

TEST_CASE("scaled_dot_product_attention: key, value and attn_mask on the query's device") {
  const Tensor q = randn({2, 3, 4}), k = randn({2, 5, 4}), v = randn({2, 5, 6});
  const char* op = "scaled_dot_product_attention";
  expect_device_error(op, [&] { scaled_dot_product_attention(q, on_cuda({2, 5, 4}), v); });
  expect_device_error(op, [&] { scaled_dot_product_attention(q, k, on_cuda({2, 5, 6})); });
  expect_device_error(op, [&] { scaled_dot_product_attention(q, k, v, on_cuda({3, 5}, kBool)); });
}

// With every argument on cuda:0 the op passes its device checks and must stop at
// the first kernel (no CUDA backend in this build), still without reading data.
TEST_CASE("every argument on cuda:0: an error naming cuda:0, no data read") {
  if (cuda::is_available()) {  // the kernels would run on the unreadable pointers
    MESSAGE("skipped: a GPU is present (tests/gpu checks the ops there)");
    return;
  }
  auto expect_no_cuda = [](const std::function<void()>& f) {
    CHECK_THROWS_WITH_AS(f(), doctest::Contains("cuda:0"), Error);
  };
  const Tensor x = on_cuda({3, 4}), t = on_cuda({3}, kInt64), w = on_cuda({4});
  expect_no_cuda([&] { cross_entropy(x, t, w); });
  expect_no_cuda([&] { cross_entropy(on_cuda({2, 4, 3}), on_cuda({2, 3}, kInt64)); });
  expect_no_cuda([&] { nll_loss(x, t, w); });
  expect_no_cuda([&] { mse_loss(x, on_cuda({3, 4})); });
  expect_no_cuda([&] { binary_cross_entropy_with_logits(x, on_cuda({3, 4}), w, Reduction::Sum, w); });
  expect_no_cuda([&] { index_select(x, 1, on_cuda({2}, kInt64)); });
  expect_no_cuda([&] { gather(x, 1, on_cuda({3, 2}, kInt64)); });
  expect_no_cuda([&] { embedding(on_cuda({5}, kInt64), on_cuda({10, 4})); });
  expect_no_cuda([&] { cat({x, on_cuda({3, 4})}); });
  expect_no_cuda([&] { stack({x, on_cuda({3, 4})}); });
  expect_no_cuda([&] { conv2d(on_cuda({1, 2, 5, 5}), on_cuda({3, 2, 3, 3}), on_cuda({3})); });
  expect_no_cuda([&] {
    batch_norm(on_cuda({4, 2, 3}), on_cuda({2}), on_cuda({2}), on_cuda({2}), on_cuda({2}));
  });
  expect_no_cuda([&] {
    batch_norm(on_cuda({4, 2, 3}), on_cuda({2}), on_cuda({2}), Tensor(), Tensor(), false);
  });
  expect_no_cuda([&] { layer_norm(on_cuda({4, 2, 3}), {3}, on_cuda({3}), on_cuda({3})); });
  expect_no_cuda([&] { matmul(x, on_cuda({4, 2})); });
  expect_no_cuda([&] { linear(x, on_cuda({5, 4}), on_cuda({5})); });
  expect_no_cuda([&] {
    scaled_dot_product_attention(on_cuda({2, 3, 4}), on_cuda({2, 5, 4}), on_cuda({2, 5, 6}),
                                 on_cuda({3, 5}, kBool));
  });
}

TEST_CASE("scaled_dot_product_attention: attn_mask must broadcast to the scores' shape") {
  const Tensor q = randn({2, 3, 4}), k = randn({2, 5, 4}), v = randn({2, 5, 6});
  for (const Shape& ok : {Shape{3, 5}, Shape{5}, Shape{2, 1, 5}, Shape{1, 3, 1}, Shape{2, 3, 5}}) {
    CAPTURE(ok);
    CHECK(scaled_dot_product_attention(q, k, v, ones(ok, kBool)).sizes() == Shape{2, 3, 6});
    CHECK(scaled_dot_product_attention(q, k, v, zeros(ok)).sizes() == Shape{2, 3, 6});
  }
  // extra leading dims would enlarge the output: refused, even when they are 1
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k, v, ones({7, 2, 3, 5}, kBool)),
                       doctest::Contains("scaled_dot_product_attention: attn_mask [7, 2, 3, 5] "
                                         "must broadcast to the attention scores' shape [2, 3, 5]"),
                       Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k, v, zeros({1, 2, 3, 5})),
                       doctest::Contains("attn_mask [1, 2, 3, 5] must broadcast to the attention "
                                         "scores' shape [2, 3, 5]"),
                       Error);
  // incompatible sizes get the same message
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k, v, ones({3, 4}, kBool)),
                       doctest::Contains("attn_mask [3, 4] must broadcast to the attention scores' "
                                         "shape [2, 3, 5] ([*, L, S] from query [2, 3, 4] and key "
                                         "[2, 5, 4])"),
                       Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k, v, ones({2, 3, 5}, kBool)
                                                                 .unsqueeze(0)
                                                                 .expand({4, 2, 3, 5})),
                       doctest::Contains("must broadcast to the attention scores' shape [2, 3, 5]"),
                       Error);
}
