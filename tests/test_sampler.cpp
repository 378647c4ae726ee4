// Samplers (data/sampler.h): each order is a function of (seed, epoch), and
// each sampler's distribution is what it says.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

#include <lucid/lucid.h>

using namespace lucid;
using namespace lucid::data;

namespace {

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> v(n);
  std::iota(v.begin(), v.end(), size_t{0});
  return v;
}

std::vector<size_t> sorted(std::vector<size_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("SequentialSampler: 0..n-1 every epoch, whatever the seed") {
  SequentialSampler s(7);
  CHECK(s.size() == 7);
  CHECK(s.indices(1, 0) == iota(7));
  CHECK(s.indices(99, 5) == iota(7));
  CHECK(SequentialSampler(0).indices(0, 0).empty());
}

TEST_CASE("RandomSampler: a permutation per epoch, fixed by (seed, epoch), new each epoch") {
  RandomSampler s(100);
  CHECK(s.size() == 100);
  const std::vector<size_t> e0 = s.indices(42, 0);
  CHECK(sorted(e0) == iota(100));
  CHECK(s.indices(42, 0) == e0);   // same (seed, epoch): same order
  CHECK(s.indices(42, 1) != e0);   // next epoch: another order
  CHECK(s.indices(43, 0) != e0);   // other seed: another order
  CHECK(e0 != iota(100));
  CHECK(sorted(s.indices(42, 1)) == iota(100));
}

TEST_CASE("RandomSampler: num_samples above size chains permutations; with replacement draws in range") {
  RandomSampler chained(10, Replacement::Without, 25);
  const std::vector<size_t> idx = chained.indices(3, 0);
  REQUIRE(idx.size() == 25);
  CHECK(sorted({idx.begin(), idx.begin() + 10}) == iota(10));
  CHECK(sorted({idx.begin() + 10, idx.begin() + 20}) == iota(10));

  RandomSampler with(10, Replacement::With, 1000);
  const std::vector<size_t> draws = with.indices(3, 0);
  REQUIRE(draws.size() == 1000);
  CHECK(*std::max_element(draws.begin(), draws.end()) < 10);
  CHECK(std::set<size_t>(draws.begin(), draws.end()).size() == 10);  // 1000 draws hit every index
  CHECK(with.indices(3, 0) == draws);
}

TEST_CASE("WeightedRandomSampler: with replacement, frequencies follow the weights (100k draws)") {
  const std::vector<double> weights = {1, 0, 2, 3, 4};  // sum 10; index 1 never drawn
  const size_t n = 100000;
  WeightedRandomSampler s(weights, n);
  const std::vector<size_t> draws = s.indices(7, 0);
  REQUIRE(draws.size() == n);
  std::vector<double> count(weights.size(), 0);
  for (size_t i : draws) count[i] += 1;
  CHECK(count[1] == 0);
  for (size_t i = 0; i < weights.size(); ++i) {
    const double p = weights[i] / 10.0;
    // 5 standard deviations of a binomial count.
    CAPTURE(i);
    CHECK(std::abs(count[i] - n * p) <= 5 * std::sqrt(n * p * (1 - p)) + 1e-9);
  }
  CHECK(s.indices(7, 0) == draws);
  CHECK(s.indices(7, 1) != draws);
}

TEST_CASE("WeightedRandomSampler: without replacement, distinct indices, heavy ones first more often") {
  const std::vector<double> weights = {1, 0, 1, 8};
  WeightedRandomSampler s(weights, 3, Replacement::Without);
  int heavy_first = 0;
  for (uint64_t epoch = 0; epoch < 2000; ++epoch) {
    const std::vector<size_t> idx = s.indices(5, epoch);
    REQUIRE(idx.size() == 3);
    CHECK(sorted(idx) == std::vector<size_t>{0, 2, 3});  // the zero weight is never drawn
    heavy_first += idx[0] == 3;
  }
  // P(first draw is index 3) = 8 / 10.
  CHECK(std::abs(heavy_first / 2000.0 - 0.8) < 0.05);
}

TEST_CASE("WeightedRandomSampler: bad weights are errors that say what is wrong") {
  CHECK_THROWS_WITH_AS(WeightedRandomSampler({1, -1}, 3), doctest::Contains("weight 1 is -1"),
                       Error);
  CHECK_THROWS_WITH_AS(WeightedRandomSampler({0, 0}, 3), doctest::Contains("all 2 weights are zero"),
                       Error);
  CHECK_THROWS_WITH_AS(WeightedRandomSampler({1, 0, 1}, 3, Replacement::Without),
                       doctest::Contains("cannot draw 3 samples without replacement from 2"),
                       Error);
}

TEST_CASE("DistributedSampler: ranks partition the padded order, each rank the same length") {
  for (Tail tail : {Tail::Pad, Tail::Drop}) {
    for (size_t size : {10, 11, 12, 2}) {
      const size_t replicas = 4;
      CAPTURE(size);
      CAPTURE(static_cast<int>(tail));
      const size_t per_rank = tail == Tail::Pad ? (size + replicas - 1) / replicas : size / replicas;
      std::vector<size_t> all;
      for (size_t rank = 0; rank < replicas; ++rank) {
        DistributedSampler s(size, replicas, rank, Shuffle::Yes, /*seed=*/9, tail);
        CHECK(s.size() == per_rank);
        const std::vector<size_t> idx = s.indices(/*loader seed, ignored=*/rank, 3);
        CHECK(idx.size() == per_rank);
        all.insert(all.end(), idx.begin(), idx.end());
      }
      // Together: every index once, then (Pad) the first few again; (Drop) a subset, no repeats.
      std::vector<size_t> counts(size, 0);
      for (size_t i : all) counts[i] += 1;
      const size_t total = per_rank * replicas;
      if (tail == Tail::Pad) {
        for (size_t c : counts) CHECK((c >= 1 && c <= (total + size - 1) / size));
      } else {
        for (size_t c : counts) CHECK(c <= 1);
      }
      CHECK(all.size() == total);
    }
  }
}

TEST_CASE("DistributedSampler: sequential order pads by wrapping, as PyTorch") {
  // size 10, 4 replicas: order 0..9 padded with 0, 1 -> ranks take every 4th.
  CHECK(DistributedSampler(10, 4, 0, Shuffle::No).indices(0, 0) == std::vector<size_t>{0, 4, 8});
  CHECK(DistributedSampler(10, 4, 1, Shuffle::No).indices(0, 0) == std::vector<size_t>{1, 5, 9});
  CHECK(DistributedSampler(10, 4, 2, Shuffle::No).indices(0, 0) == std::vector<size_t>{2, 6, 0});
  CHECK(DistributedSampler(10, 4, 3, Shuffle::No).indices(0, 0) == std::vector<size_t>{3, 7, 1});
  CHECK(DistributedSampler(10, 4, 3, Shuffle::No, 0, Tail::Drop).indices(0, 0) ==
        std::vector<size_t>{3, 7});
}

TEST_CASE("DistributedSampler: all ranks agree on the epoch's permutation, which changes per epoch") {
  DistributedSampler r0(8, 2, 0, Shuffle::Yes, 5), r1(8, 2, 1, Shuffle::Yes, 5);
  for (uint64_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<size_t> both = r0.indices(111, epoch);  // different loader seeds per rank
    const std::vector<size_t> other = r1.indices(222, epoch);
    both.insert(both.end(), other.begin(), other.end());
    CHECK(sorted(both) == iota(8));
  }
  CHECK(r0.indices(0, 0) != r0.indices(0, 1));
  CHECK_THROWS_WITH_AS(DistributedSampler(8, 2, 2), doctest::Contains("rank 2 is out of range"),
                       Error);
}
