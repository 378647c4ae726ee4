#pragma once
// Collating: turning the samples of one batch into one batch Example.
//
//   CollateFn         what a DataLoader calls on each batch's samples
//   default_collate   stacks data [...] -> [B, ...] and targets [] -> [B]

#include <functional>
#include <vector>

#include <lucid/data/dataset.h>

namespace lucid::data {

using CollateFn = std::function<Example(const std::vector<Example>& samples)>;

// Stacks the samples' data along a new dim 0, and their targets likewise.
// Every sample must have data (and target) of one shape, dtype and device;
// targets may be undefined in every sample (the batch target is then
// undefined), but not in some only. Errors name the offending samples by
// their dataset index when `indices` is given (one per sample), by position
// in the batch otherwise, and give the shapes, e.g.
//   "default_collate: data of sample 7 has shape [3, 5], but sample 2 has [3, 4]".
// The result records no autograd history: a batch is input, not a graph.
Example default_collate(const std::vector<Example>& samples,
                        const std::vector<size_t>& indices = {});

}  // namespace lucid::data
