#pragma once
// Per-channel mean and standard deviation over a dataset, for Normalize.
//
//   auto s = channel_stats(FashionMNIST(root, Split::Train));   // data [C, H, W] in [0, 1]
//   Normalize norm(s.mean, s.std);
//
// Every pixel of every sample counts once: mean[c] is the average of channel c
// over all samples and positions, std[c] the population standard deviation
// (divide by the count), accumulated in double. Samples may differ in H and W
// but must agree in C. Run it on a dataset whose transform has no random steps
// and no Normalize (usually just ToTensor).

#include <vector>

#include <lucid/data/dataset.h>

namespace lucid::data {

struct ChannelStats {
  std::vector<double> mean;
  std::vector<double> std;
};

ChannelStats channel_stats(const Dataset& dataset);

}  // namespace lucid::data
