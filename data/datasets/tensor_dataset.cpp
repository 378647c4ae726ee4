#include <lucid/data/datasets/tensor_dataset.h>

#include <cmath>
#include <numeric>

#include <lucid/kernels/error.h>

namespace lucid::data {

TensorDataset::TensorDataset(Tensor data, Tensor target)
    : data_(std::move(data)), target_(std::move(target)) {
  LUCID_CHECK(data_.defined() && data_.dim() >= 1,
              "TensorDataset: data must be a tensor with at least one dimension");
  if (target_.defined())
    LUCID_CHECK(target_.dim() >= 1 && target_.size(0) == data_.size(0),
                "TensorDataset: data of shape ", data_.sizes(), " and target of shape ",
                target_.sizes(), " differ in their first dimension");
}

size_t TensorDataset::size() const { return size_t(data_.size(0)); }

Example TensorDataset::get(size_t index) const {
  LUCID_CHECK(index < size(), "TensorDataset: index ", index, " out of range for ", size(),
              " samples");
  const int64_t i = int64_t(index);
  return {data_[i], target_.defined() ? target_[i] : Tensor()};
}

Subset::Subset(std::shared_ptr<const Dataset> dataset, std::vector<size_t> indices)
    : dataset_(std::move(dataset)), indices_(std::move(indices)) {
  LUCID_CHECK(dataset_ != nullptr, "Subset: dataset is null");
  const size_t n = dataset_->size();
  for (size_t k = 0; k < indices_.size(); ++k)
    LUCID_CHECK(indices_[k] < n, "Subset: index ", indices_[k], " (at position ", k,
                ") out of range for a dataset of ", n, " samples");
}

Example Subset::get(size_t index) const {
  LUCID_CHECK(index < size(), "Subset: index ", index, " out of range for ", size(), " samples");
  return dataset_->get(indices_[index]);
}

std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset,
                                 const std::vector<size_t>& lengths, uint64_t seed) {
  LUCID_CHECK(dataset != nullptr, "random_split: dataset is null");
  const size_t n = dataset->size();
  const size_t total = std::accumulate(lengths.begin(), lengths.end(), size_t(0));
  LUCID_CHECK(total == n, "random_split: lengths sum to ", total, " but the dataset has ", n,
              " samples");
  std::vector<size_t> perm(n);
  std::iota(perm.begin(), perm.end(), size_t(0));
  // Fisher-Yates: position i swaps with a uniform j in [0, i].
  Generator gen(seed);
  for (size_t i = n; i > 1; --i) {
    int64_t j = 0;
    gen.fill_randint(&j, 1, 0, int64_t(i));
    std::swap(perm[i - 1], perm[size_t(j)]);
  }
  std::vector<Subset> out;
  size_t start = 0;
  for (size_t len : lengths) {
    out.emplace_back(dataset, std::vector<size_t>(perm.begin() + std::ptrdiff_t(start),
                                                  perm.begin() + std::ptrdiff_t(start + len)));
    start += len;
  }
  return out;
}

std::vector<Subset> random_split_fractions(std::shared_ptr<const Dataset> dataset,
                                           const std::vector<double>& fractions, uint64_t seed) {
  LUCID_CHECK(dataset != nullptr, "random_split_fractions: dataset is null");
  LUCID_CHECK(!fractions.empty(), "random_split_fractions: no fractions given");
  double sum = 0.0;
  for (size_t k = 0; k < fractions.size(); ++k) {
    LUCID_CHECK(fractions[k] >= 0.0 && fractions[k] <= 1.0, "random_split_fractions: fraction ",
                k, " is ", fractions[k], ", not in [0, 1]");
    sum += fractions[k];
  }
  LUCID_CHECK(std::abs(sum - 1.0) <= 1e-6, "random_split_fractions: fractions sum to ", sum,
              ", not 1");
  const size_t n = dataset->size();
  std::vector<size_t> lengths;
  size_t used = 0;
  for (double f : fractions) {
    lengths.push_back(size_t(std::floor(double(n) * f)));
    used += lengths.back();
  }
  for (size_t k = 0; used < n; ++k, ++used) lengths[k % lengths.size()] += 1;
  return random_split(std::move(dataset), lengths, seed);
}

}  // namespace lucid::data
