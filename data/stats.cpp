#include <lucid/data/stats.h>

#include <algorithm>
#include <cmath>

#include <lucid/kernels/error.h>

namespace lucid::data {

ChannelStats channel_stats(const Dataset& dataset) {
  LUCID_CHECK(dataset.size() > 0, "channel_stats: the dataset is empty");
  std::vector<double> sum, sq;
  double per_channel = 0.0;  // values seen in each channel
  for (size_t i = 0; i < dataset.size(); ++i) {
    Tensor x = dataset.get(i).data;
    LUCID_CHECK(x.defined() && x.dim() == 3, "channel_stats: sample ", i,
                " must be a [C, H, W] tensor, got shape ",
                x.defined() ? x.sizes() : Shape{});
    x = x.to(kFloat64).contiguous();
    const int64_t c = x.size(0), hw = x.size(1) * x.size(2);
    if (sum.empty()) {
      sum.assign(size_t(c), 0.0);
      sq.assign(size_t(c), 0.0);
    }
    LUCID_CHECK(size_t(c) == sum.size(), "channel_stats: sample ", i, " has ", c,
                " channels but sample 0 has ", sum.size());
    const double* p = x.data_ptr<double>();
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t k = 0; k < hw; ++k) {
        const double v = p[ch * hw + k];
        sum[size_t(ch)] += v;
        sq[size_t(ch)] += v * v;
      }
    per_channel += double(hw);
  }
  ChannelStats s;
  for (size_t ch = 0; ch < sum.size(); ++ch) {
    const double mean = sum[ch] / per_channel;
    // E[x^2] - E[x]^2 in double: exact enough for values in [0, 1] (or a few units).
    s.mean.push_back(mean);
    s.std.push_back(std::sqrt(std::max(0.0, sq[ch] / per_channel - mean * mean)));
  }
  return s;
}

}  // namespace lucid::data
