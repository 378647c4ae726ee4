// CIFAR10 on synthetic batch files this test writes, TensorDataset, Subset,
// random_split (seeded, every index exactly once) and channel_stats.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <lucid/lucid.h>

#include "temp_dir.h"

using namespace lucid;
using namespace lucid::data;
using lucid::testing::TempDir;
using lucid::testing::write_bytes;

namespace {

// Pixel (y, x) of channel c in CIFAR record r: a value that tells them apart.
uint8_t cifar_value(int r, int c, int y, int x) { return uint8_t(r * 7 + c * 50 + y * 3 + x); }

std::vector<uint8_t> cifar_batch(int first_record, int records) {
  std::vector<uint8_t> b;
  for (int r = first_record; r < first_record + records; ++r) {
    b.push_back(uint8_t(r % 10));
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) b.push_back(cifar_value(r, c, y, x));
  }
  return b;
}

std::vector<size_t> sorted_union(const std::vector<Subset>& parts) {
  std::vector<size_t> all;
  for (const auto& p : parts) all.insert(all.end(), p.indices().begin(), p.indices().end());
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace

TEST_CASE("CIFAR10 reads its batches: labels, planar RGB to HWC, [3, 32, 32] tensors") {
  TempDir dir;
  for (int i = 1; i <= 5; ++i)
    write_bytes(dir / ("data_batch_" + std::to_string(i) + ".bin"), cifar_batch(2 * (i - 1), 2));
  write_bytes(dir / "test_batch.bin", cifar_batch(100, 3));
  CIFAR10 train(dir.path().string(), Split::Train);
  REQUIRE(train.size() == 10);
  CIFAR10 test(dir.path().string(), Split::Test);
  REQUIRE(test.size() == 3);
  Image im = train.image(7);  // record 7: in data_batch_4
  CHECK(im.height == 32);
  CHECK(im.channels == 3);
  CHECK(im.at(5, 9, 2) == cifar_value(7, 2, 5, 9));
  Example e = test.get(1);
  CHECK(e.target.item<int64_t>() == 101 % 10);
  CHECK(e.data.sizes() == Shape{3, 32, 32});
  CHECK(e.data[1][4][6].item<float>() == float(cifar_value(101, 1, 4, 6)) / 255.0f);
  CHECK(CIFAR10::classes()[3] == "cat");
}

TEST_CASE("CIFAR10 errors name the file: missing batch, partial record, bad label") {
  TempDir dir;
  const std::string missing = (dir / "test_batch.bin") + ": no such file";
  CHECK_THROWS_WITH_AS(CIFAR10(dir.path().string(), Split::Test),
                       doctest::Contains(missing.c_str()), lucid::Error);
  auto b = cifar_batch(0, 2);
  b.pop_back();
  write_bytes(dir / "test_batch.bin", b);
  CHECK_THROWS_WITH_AS(CIFAR10(dir.path().string(), Split::Test),
                       doctest::Contains("test_batch.bin: 6145 bytes is not a whole number of "
                                         "3073-byte records (1 records and 3072 bytes left over)"),
                       lucid::Error);
  b = cifar_batch(0, 2);
  b[3073] = 11;
  write_bytes(dir / "test_batch.bin", b);
  CHECK_THROWS_WITH_AS(CIFAR10(dir.path().string(), Split::Test),
                       doctest::Contains("test_batch.bin: record 1 has label 11"), lucid::Error);
}

TEST_CASE("TensorDataset gives row i of data and target") {
  Tensor x = arange(12.0).view({4, 3});
  Tensor y = tensor(std::vector<int64_t>{5, 6, 7, 8});
  TensorDataset ds(x, y);
  CHECK(ds.size() == 4);
  Example e = ds.get(2);
  CHECK(e.data.sizes() == Shape{3});
  CHECK(e.data[0].item<double>() == 6.0);
  CHECK(e.target.item<int64_t>() == 7);
  CHECK_FALSE(TensorDataset(x).get(0).target.defined());
  CHECK_THROWS_WITH_AS(TensorDataset(x, tensor({1.0, 2.0})),
                       doctest::Contains("TensorDataset: data of shape [4, 3] and target of shape "
                                         "[2] differ in their first dimension"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(ds.get(4), doctest::Contains("TensorDataset: index 4 out of range"),
                       lucid::Error);
}

TEST_CASE("Subset maps its indices into the base dataset") {
  auto base = std::make_shared<TensorDataset>(arange(10.0));
  Subset s(base, {9, 0, 4});
  CHECK(s.size() == 3);
  CHECK(s.get(0).data.item<double>() == 9.0);
  CHECK(s.get(2).data.item<double>() == 4.0);
  CHECK_THROWS_WITH_AS(Subset(base, {1, 10}),
                       doctest::Contains("Subset: index 10 (at position 1) out of range for a "
                                         "dataset of 10 samples"),
                       lucid::Error);
}

TEST_CASE("random_split covers every index once, and the seed fixes the split") {
  auto base = std::make_shared<TensorDataset>(arange(100.0));
  std::vector<size_t> all(100);
  std::iota(all.begin(), all.end(), size_t(0));
  auto parts = random_split(base, {70, 20, 10}, 123);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].size() == 70);
  CHECK(parts[2].size() == 10);
  CHECK(sorted_union(parts) == all);
  CHECK(parts[1].get(0).data.item<double>() == double(parts[1].indices()[0]));
  // A shuffle, not the identity.
  std::vector<size_t> first70(all.begin(), all.begin() + 70);
  CHECK(parts[0].indices() != first70);
  CHECK(random_split(base, {70, 20, 10}, 123)[1].indices() == parts[1].indices());
  CHECK(random_split(base, {70, 20, 10}, 124)[1].indices() != parts[1].indices());
  CHECK_THROWS_WITH_AS(random_split(base, {70, 20}, 1),
                       doctest::Contains("random_split: lengths sum to 90 but the dataset has 100"),
                       lucid::Error);
}

TEST_CASE("random_split_fractions rounds down and hands the remainder out from the first piece") {
  auto base = std::make_shared<TensorDataset>(arange(11.0));
  auto parts = random_split_fractions(base, {0.5, 0.3, 0.2}, 9);
  // floor: 5, 3, 2 (sum 10); the one left over goes to the first piece, as PyTorch.
  CHECK(parts[0].size() == 6);
  CHECK(parts[1].size() == 3);
  CHECK(parts[2].size() == 2);
  std::vector<size_t> all(11);
  std::iota(all.begin(), all.end(), size_t(0));
  CHECK(sorted_union(parts) == all);
  CHECK_THROWS_WITH_AS(random_split_fractions(base, {0.5, 0.4}, 9),
                       doctest::Contains("fractions sum to 0.9, not 1"), lucid::Error);
  CHECK_THROWS_WITH_AS(random_split_fractions(base, {1.5, -0.5}, 9),
                       doctest::Contains("fraction 0 is 1.5, not in [0, 1]"), lucid::Error);
}

TEST_CASE("channel_stats gives the per-channel mean and population std") {
  // Two samples of [2, 1, 2]: channel 0 holds 0, 1, 2, 3; channel 1 holds 10 four times.
  Tensor x = tensor({0.0, 1.0, 10.0, 10.0, 2.0, 3.0, 10.0, 10.0}).view({2, 2, 1, 2});
  TensorDataset ds(x);
  ChannelStats s = channel_stats(ds);
  REQUIRE(s.mean.size() == 2);
  CHECK(s.mean[0] == doctest::Approx(1.5));
  CHECK(s.std[0] == doctest::Approx(std::sqrt(1.25)));
  CHECK(s.mean[1] == doctest::Approx(10.0));
  CHECK(s.std[1] == doctest::Approx(0.0));
  CHECK_THROWS_WITH_AS(channel_stats(TensorDataset(arange(4.0))),
                       doctest::Contains("channel_stats: sample 0 must be a [C, H, W] tensor, got "
                                         "shape []"),
                       lucid::Error);
}
