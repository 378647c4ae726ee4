// The IDX reader and the MNIST/FashionMNIST datasets: the real Fashion-MNIST
// files from Debian's dataset-fashion-mnist, small IDX files of every element
// type, and corrupt inputs (each an Error naming the file and the problem).
//
// Known values come from the files themselves (/usr/bin/python3):
//   import gzip, numpy as np; d = '/usr/share/datasets/fashion-mnist/'
//   list(gzip.open(d + 'train-labels-idx1-ubyte.gz').read()[8:28])
//     # [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9, 5, 5, 7, 9, 1, 0, 6, 4]
//   list(gzip.open(d + 't10k-labels-idx1-ubyte.gz').read()[8:18])  # [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
//   a = np.frombuffer(gzip.open(d + 'train-images-idx3-ubyte.gz').read()[16:], np.uint8)
//   a.mean() / 255, int(a[:784].sum()), a.max()       # 0.2860405969887955, 76247, 255
//   b = np.frombuffer(gzip.open(d + 't10k-images-idx3-ubyte.gz').read()[16:], np.uint8) / 255.
//   b.mean(), b.std()                                  # 0.28684928071228494, 0.35244415324744005
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <lucid/lucid.h>

#include "temp_dir.h"

using namespace lucid;
using namespace lucid::data;
using lucid::testing::read_bytes;
using lucid::testing::TempDir;
using lucid::testing::write_bytes;

namespace {

const std::string kFashion = "/usr/share/datasets/fashion-mnist";

// An IDX file: magic 0x0000TTNN, big-endian dims, then `payload`.
std::vector<uint8_t> idx_bytes(uint8_t type, const std::vector<uint32_t>& dims,
                               const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> b{0, 0, type, uint8_t(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(d >> s));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Tensor parse(const std::vector<uint8_t>& b) { return parse_idx(b.data(), b.size(), "test.idx"); }

}  // namespace

TEST_CASE("Fashion-MNIST train and test files have 60000 and 10000 samples with known labels") {
  Tensor labels = read_idx(kFashion + "/train-labels-idx1-ubyte.gz");
  CHECK(labels.dtype() == kUInt8);
  CHECK(labels.sizes() == Shape{60000});
  const std::vector<int> first{9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9, 5, 5, 7, 9, 1, 0, 6, 4};
  for (size_t i = 0; i < first.size(); ++i) CHECK(int(labels.data_ptr<uint8_t>()[i]) == first[i]);

  Tensor images = read_idx(kFashion + "/train-images-idx3-ubyte.gz");
  CHECK(images.dtype() == kUInt8);
  CHECK(images.sizes() == Shape{60000, 28, 28});
  CHECK(images[0].to(kInt64).sum().item<int64_t>() == 76247);
  CHECK(images.max().item<int>() == 255);
  CHECK(images.to(kFloat64).mean().item<double>() / 255.0 ==
        doctest::Approx(0.2860405969887955).epsilon(1e-12));

  FashionMNIST test(kFashion, Split::Test);
  CHECK(test.size() == 10000);
  const std::vector<int64_t> test_first{9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
  for (size_t i = 0; i < test_first.size(); ++i)
    CHECK(test.get(i).target.item<int64_t>() == test_first[i]);
  CHECK(FashionMNIST::classes()[9] == "Ankle boot");
}

TEST_CASE("FashionMNIST get() gives a [1, 28, 28] float image in [0, 1] and an int64 scalar") {
  FashionMNIST train(kFashion, Split::Train);
  CHECK(train.size() == 60000);
  Example e = train.get(0);
  CHECK(e.data.sizes() == Shape{1, 28, 28});
  CHECK(e.data.dtype() == kFloat32);
  CHECK(e.target.dtype() == kInt64);
  CHECK(e.target.dim() == 0);
  CHECK(e.target.item<int64_t>() == 9);
  CHECK(e.data.sum().item<double>() == doctest::Approx(76247.0 / 255.0).epsilon(1e-6));
  CHECK(e.data.min().item<double>() >= 0.0);
  CHECK(e.data.max().item<double>() <= 1.0);
  // The image as stored, before the transform: row-major uint8.
  Image raw = train.image(0);
  CHECK(raw.height == 28);
  CHECK(raw.channels == 1);
  CHECK(float(raw.at(14, 14, 0)) / 255.0f == e.data[0][14][14].item<float>());
  CHECK_THROWS_WITH_AS(train.get(60000), doctest::Contains("FashionMNIST: index 60000 out of range"),
                       lucid::Error);
}

TEST_CASE("channel_stats over the Fashion-MNIST test split matches numpy's mean and std") {
  FashionMNIST test(kFashion, Split::Test);
  ChannelStats s = channel_stats(test);
  REQUIRE(s.mean.size() == 1);
  // The samples are float32 (x / 255 rounded to float), numpy divides in float64: agree to ~1e-7.
  CHECK(s.mean[0] == doctest::Approx(0.28684928071228494).epsilon(1e-6));
  CHECK(s.std[0] == doctest::Approx(0.35244415324744005).epsilon(1e-6));
}

TEST_CASE("a dataset's transform runs in get(): Normalize after ToTensor") {
  FashionMNIST test(kFashion, Split::Test, Compose(ToTensor(), Normalize({0.5}, {0.25})));
  Tensor x = test.get(0).data;
  Tensor plain = FashionMNIST(kFashion, Split::Test).get(0).data;
  CHECK(x.sub((plain - 0.5) / 0.25).abs().max().item<double>() < 1e-6);
  CHECK_THROWS_WITH_AS(FashionMNIST(kFashion, Split::Test, Compose(Normalize({0.5}, {0.25}))),
                       doctest::Contains("FashionMNIST: the transform Compose(Normalize) must "
                                         "take an Image and give a Tensor"),
                       lucid::Error);
}

TEST_CASE("parse_idx decodes every element type big-endian") {
  Tensor u8 = parse(idx_bytes(0x08, {2, 3}, {1, 2, 3, 4, 5, 255}));
  CHECK(u8.dtype() == kUInt8);
  CHECK(u8.sizes() == Shape{2, 3});
  CHECK(u8[1][2].item<int>() == 255);

  Tensor i8 = parse(idx_bytes(0x09, {2}, {0x7f, 0x80}));
  CHECK(i8.dtype() == kInt32);
  CHECK(i8[0].item<int>() == 127);
  CHECK(i8[1].item<int>() == -128);

  Tensor i16 = parse(idx_bytes(0x0B, {2}, {0x01, 0x02, 0xff, 0xfe}));
  CHECK(i16[0].item<int>() == 0x0102);
  CHECK(i16[1].item<int>() == -2);

  Tensor i32 = parse(idx_bytes(0x0C, {1}, {0x80, 0x00, 0x00, 0x01}));
  CHECK(i32[0].item<int64_t>() == -2147483647);

  Tensor f32 = parse(idx_bytes(0x0D, {1}, {0x3f, 0xc0, 0x00, 0x00}));  // 1.5f
  CHECK(f32.dtype() == kFloat32);
  CHECK(f32[0].item<float>() == 1.5f);

  Tensor f64 = parse(idx_bytes(0x0E, {1}, {0xc0, 0x04, 0, 0, 0, 0, 0, 0}));  // -2.5
  CHECK(f64.dtype() == kFloat64);
  CHECK(f64[0].item<double>() == -2.5);
}

TEST_CASE("read_idx reads an uncompressed file (the real .gz files are read above)") {
  TempDir dir;
  auto bytes = idx_bytes(0x08, {3}, {7, 8, 9});
  write_bytes(dir / "raw-idx1-ubyte", bytes);
  Tensor t = read_idx(dir / "raw-idx1-ubyte");
  CHECK(t.sizes() == Shape{3});
  CHECK(t[2].item<int>() == 9);
}

TEST_CASE("corrupt IDX input is an Error naming the file and the problem") {
  CHECK_THROWS_WITH_AS(parse({}), doctest::Contains("read_idx: test.idx: empty file"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(parse({0, 0, 8}), doctest::Contains("test.idx: truncated: 3 bytes"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(parse(idx_bytes(0x08, {2, 3}, {1, 2, 3, 4, 5})),
                       doctest::Contains("read_idx: test.idx: truncated: expected 18 bytes "
                                         "(12-byte header + uint8 data of shape [2, 3]), found 17"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(parse(idx_bytes(0x08, {2}, {1, 2, 3, 4})),
                       doctest::Contains("test.idx: 2 trailing bytes: expected 10 bytes"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(parse({0x12, 0x34, 0x08, 0x01, 0, 0, 0, 0}),
                       doctest::Contains("test.idx: wrong magic number 0x12340801"), lucid::Error);
  CHECK_THROWS_WITH_AS(parse({0, 0, 0x07, 0x01, 0, 0, 0, 0}),
                       doctest::Contains("test.idx: wrong magic number 0x00000701"), lucid::Error);
  CHECK_THROWS_WITH_AS(parse({0, 0, 0x08, 0x00}),
                       doctest::Contains("gives 0 dimensions (expected 1 to 8)"), lucid::Error);
  CHECK_THROWS_WITH_AS(parse({0, 0, 0x08, 0x03, 0, 0, 0, 1}),
                       doctest::Contains("truncated header: expected 16 bytes for 3 dimensions, "
                                         "found 8"),
                       lucid::Error);
  // Dimensions whose product overflows 64 bits are still just "truncated".
  CHECK_THROWS_WITH_AS(
      parse(idx_bytes(0x0E, {0xffffffff, 0xffffffff, 0xffffffff}, {1, 2, 3})),
      doctest::Contains("truncated: expected"), lucid::Error);
  // A zero dimension with huge others: no data, but strides would overflow (found by fuzz_idx).
  CHECK_THROWS_WITH_AS(parse(idx_bytes(0x08, {0, 0xffffffff, 0xffffffff}, {})),
                       doctest::Contains("dims [0, 4294967295, 4294967295] are too large"),
                       lucid::Error);
  CHECK(parse(idx_bytes(0x08, {0, 5}, {})).sizes() == Shape{0, 5});

  TempDir dir;
  CHECK_THROWS_WITH_AS(read_idx(dir / "missing-idx3-ubyte.gz"),
                       doctest::Contains("missing-idx3-ubyte.gz: no such file"), lucid::Error);
  CHECK_THROWS_WITH_AS(read_idx(dir.path().string()), doctest::Contains("not a regular file"),
                       lucid::Error);
  write_bytes(dir / "empty", {});
  CHECK_THROWS_WITH_AS(read_idx(dir / "empty"), doctest::Contains("empty: empty file"),
                       lucid::Error);
  // A gzip stream cut short.
  auto gz = read_bytes(kFashion + "/t10k-labels-idx1-ubyte.gz");
  gz.resize(gz.size() / 2);
  write_bytes(dir / "cut.gz", gz);
  CHECK_THROWS_WITH_AS(read_idx(dir / "cut.gz"),
                       doctest::Contains("cut.gz: corrupt or truncated gzip data"), lucid::Error);
}

TEST_CASE("MNIST checks its files: missing files, wrong dims, mismatched counts, bad labels") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(MNIST(dir / "nowhere", Split::Train),
                       doctest::Contains("MNIST: root"), lucid::Error);
  CHECK_THROWS_WITH_AS(MNIST(dir.path().string(), Split::Train),
                       doctest::Contains("train-images-idx3-ubyte.gz exists"), lucid::Error);

  write_bytes(dir / "t10k-images-idx3-ubyte", idx_bytes(0x08, {2, 2, 2}, std::vector<uint8_t>(8, 1)));
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_bytes(0x08, {2, 1}, {3, 4}));
  CHECK_THROWS_WITH_AS(MNIST(dir.path().string(), Split::Test),
                       doctest::Contains("t10k-labels-idx1-ubyte: expected uint8 labels [N], got "
                                         "uint8 of shape [2, 1]"),
                       lucid::Error);
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_bytes(0x08, {3}, {3, 4, 5}));
  CHECK_THROWS_WITH_AS(MNIST(dir.path().string(), Split::Test),
                       doctest::Contains("holds 2 images but"), lucid::Error);
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_bytes(0x08, {2}, {3, 12}));
  CHECK_THROWS_WITH_AS(MNIST(dir.path().string(), Split::Test),
                       doctest::Contains("label 12 at index 1 is not a class 0-9"), lucid::Error);
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_bytes(0x08, {2}, {3, 4}));
  MNIST ok(dir.path().string(), Split::Test);
  CHECK(ok.size() == 2);
  CHECK(ok.get(1).target.item<int64_t>() == 4);
  CHECK(ok.get(1).data.sizes() == Shape{1, 2, 2});
}
