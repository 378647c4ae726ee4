#include <lucid/data/sampler.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include <lucid/data/dataset.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/philox.h>

namespace lucid::data {

namespace {

// Fisher-Yates driven by one uniform u_i in [0, 1) per position, as randperm:
// swap i with j = min(i, floor(u_i (i + 1))).
std::vector<size_t> permutation(size_t n, Generator& gen) {
  std::vector<size_t> perm(n);
  std::iota(perm.begin(), perm.end(), size_t{0});
  std::vector<double> u(n);
  gen.fill_uniform(u.data(), static_cast<int64_t>(n));
  for (size_t i = n; i-- > 1;) {
    const size_t j = std::min(i, static_cast<size_t>(u[i] * static_cast<double>(i + 1)));
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

}  // namespace

uint64_t epoch_generator_seed(uint64_t seed, uint64_t epoch) {
  // sample_seed is a strong 64-bit hash of three words; the salt in place of
  // a sample index keeps the order's stream apart from every sample's.
  const uint64_t kSamplerSalt = 0x5a4d504c45525f31ull;  // "SMPLER_1"
  return sample_seed(seed, epoch, kSamplerSalt);
}

// ---- SequentialSampler ------------------------------------------------------------
std::vector<size_t> SequentialSampler::indices(uint64_t, uint64_t) const {
  std::vector<size_t> out(size_);
  std::iota(out.begin(), out.end(), size_t{0});
  return out;
}

// ---- RandomSampler ------------------------------------------------------------------
RandomSampler::RandomSampler(size_t size, Replacement replacement, size_t num_samples)
    : size_(size), replacement_(replacement), num_samples_(num_samples ? num_samples : size) {
  LUCID_CHECK(size > 0 || num_samples == 0, "RandomSampler: cannot draw ", num_samples,
              " samples from an empty dataset");
}

std::vector<size_t> RandomSampler::indices(uint64_t seed, uint64_t epoch) const {
  Generator gen(epoch_generator_seed(seed, epoch));
  std::vector<size_t> out;
  out.reserve(num_samples_);
  if (replacement_ == Replacement::With) {
    std::vector<int64_t> draws(num_samples_);
    gen.fill_randint(draws.data(), static_cast<int64_t>(num_samples_), 0,
                     static_cast<int64_t>(size_));
    for (int64_t d : draws) out.push_back(static_cast<size_t>(d));
    return out;
  }
  while (out.size() < num_samples_) {
    const std::vector<size_t> perm = permutation(size_, gen);
    const size_t take = std::min(perm.size(), num_samples_ - out.size());
    out.insert(out.end(), perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(take));
  }
  return out;
}

// ---- WeightedRandomSampler ------------------------------------------------------------
WeightedRandomSampler::WeightedRandomSampler(std::vector<double> weights, size_t num_samples,
                                             Replacement replacement)
    : weights_(std::move(weights)), num_samples_(num_samples), replacement_(replacement) {
  LUCID_CHECK(!weights_.empty(), "WeightedRandomSampler: weights are empty");
  size_t positive = 0;
  for (size_t i = 0; i < weights_.size(); ++i) {
    LUCID_CHECK(std::isfinite(weights_[i]) && weights_[i] >= 0, "WeightedRandomSampler: weight ",
                i, " is ", weights_[i], "; weights must be finite and non-negative");
    positive += weights_[i] > 0;
  }
  LUCID_CHECK(positive > 0, "WeightedRandomSampler: all ", weights_.size(), " weights are zero");
  LUCID_CHECK(replacement_ == Replacement::With || num_samples_ <= positive,
              "WeightedRandomSampler: cannot draw ", num_samples_,
              " samples without replacement from ", positive, " indices of positive weight");
}

std::vector<size_t> WeightedRandomSampler::indices(uint64_t seed, uint64_t epoch) const {
  Generator gen(epoch_generator_seed(seed, epoch));
  const size_t n = weights_.size();
  std::vector<size_t> out;
  out.reserve(num_samples_);
  if (replacement_ == Replacement::With) {
    // Inverse CDF: draw u in [0, total) and take the first index whose
    // cumulative weight exceeds it.
    std::vector<double> cumulative(n);
    std::partial_sum(weights_.begin(), weights_.end(), cumulative.begin());
    std::vector<double> u(num_samples_);
    gen.fill_uniform(u.data(), static_cast<int64_t>(num_samples_), 0.0, cumulative.back());
    for (double x : u) {
      const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), x);
      out.push_back(std::min(n - 1, static_cast<size_t>(it - cumulative.begin())));
    }
    return out;
  }
  // Without replacement (Efraimidis and Spirakis, 2006): give index i the key
  // log(u_i) / w_i; the num_samples largest keys, in decreasing order, are
  // distributed as drawing one index at a time proportionally to the weights
  // of those not yet drawn.
  std::vector<double> u(n);
  gen.fill_uniform(u.data(), static_cast<int64_t>(n));
  std::vector<std::pair<double, size_t>> keyed;
  for (size_t i = 0; i < n; ++i)
    if (weights_[i] > 0) keyed.emplace_back(std::log(u[i]) / weights_[i], i);
  std::partial_sort(keyed.begin(), keyed.begin() + static_cast<std::ptrdiff_t>(num_samples_),
                    keyed.end(), [](const auto& a, const auto& b) {
                      return a.first > b.first || (a.first == b.first && a.second < b.second);
                    });
  for (size_t k = 0; k < num_samples_; ++k) out.push_back(keyed[k].second);
  return out;
}

// ---- DistributedSampler ------------------------------------------------------------
DistributedSampler::DistributedSampler(size_t size, size_t num_replicas, size_t rank,
                                       Shuffle shuffle, uint64_t seed, Tail tail)
    : size_(size), num_replicas_(num_replicas), rank_(rank), shuffle_(shuffle), seed_(seed),
      tail_(tail) {
  LUCID_CHECK(num_replicas > 0, "DistributedSampler: num_replicas must be positive");
  LUCID_CHECK(rank < num_replicas, "DistributedSampler: rank ", rank,
              " is out of range for num_replicas ", num_replicas);
  num_samples_ = tail == Tail::Drop ? size / num_replicas
                                    : (size + num_replicas - 1) / num_replicas;
}

std::vector<size_t> DistributedSampler::indices(uint64_t, uint64_t epoch) const {
  std::vector<size_t> order;
  if (shuffle_ == Shuffle::Yes) {
    Generator gen(epoch_generator_seed(seed_, epoch));
    order = permutation(size_, gen);
  } else {
    order.resize(size_);
    std::iota(order.begin(), order.end(), size_t{0});
  }
  const size_t total = num_samples_ * num_replicas_;
  // Pad by wrapping around (possibly more than once, for tiny datasets), or cut.
  for (size_t i = 0; order.size() < total; ++i) {
    const size_t wrapped = order[i];
    order.push_back(wrapped);
  }
  order.resize(total);
  std::vector<size_t> out;
  out.reserve(num_samples_);
  for (size_t i = rank_; i < total; i += num_replicas_) out.push_back(order[i]);
  return out;
}

}  // namespace lucid::data
