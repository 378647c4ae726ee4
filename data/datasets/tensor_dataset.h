#pragma once
// Datasets built from tensors and from other datasets, as torch.utils.data.
//
//   TensorDataset            sample i = (data[i], target[i])
//   Subset                   the samples of another dataset at chosen indices
//   random_split             seeded shuffle, cut into pieces of given lengths
//   random_split_fractions   the same with fractions summing to 1 (as PyTorch:
//                            floor(n * f) each, the remainder handed out one
//                            by one from the first piece on)
//
// The split permutation is a Fisher-Yates shuffle driven by a Generator seeded
// with `seed`: the same seed always gives the same split (but not PyTorch's).

#include <cstdint>
#include <memory>
#include <vector>

#include <lucid/data/dataset.h>

namespace lucid::data {

class TensorDataset : public Dataset {
 public:
  // target may be undefined (then every Example's target is undefined);
  // otherwise both share their first dimension.
  explicit TensorDataset(Tensor data, Tensor target = Tensor());
  size_t size() const override;
  Example get(size_t index) const override;  // views of row `index`

 private:
  Tensor data_;
  Tensor target_;
};

class Subset : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> dataset, std::vector<size_t> indices);
  size_t size() const override { return indices_.size(); }
  Example get(size_t index) const override;
  const std::vector<size_t>& indices() const { return indices_; }
  const std::shared_ptr<const Dataset>& dataset() const { return dataset_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  std::vector<size_t> indices_;
};

// The lengths must sum to dataset->size().
std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset,
                                 const std::vector<size_t>& lengths, uint64_t seed);
// Each fraction in [0, 1], summing to 1 (within 1e-6).
std::vector<Subset> random_split_fractions(std::shared_ptr<const Dataset> dataset,
                                           const std::vector<double>& fractions, uint64_t seed);

}  // namespace lucid::data
