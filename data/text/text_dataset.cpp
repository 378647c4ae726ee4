#include <lucid/data/text/text_dataset.h>

#include <lucid/kernels/error.h>
#include <lucid/kernels/factory.h>

namespace lucid::data::text {

TextDataset::TextDataset(std::string_view text, std::shared_ptr<const Tokenizer> tokenizer, int64_t block_size,
                         TextDatasetOptions options)
    : tokenizer_(std::move(tokenizer)), block_size_(block_size), options_(options) {
  LUCID_CHECK(tokenizer_, "TextDataset: tokenizer is null");
  LUCID_CHECK(block_size > 0, "TextDataset: block_size must be positive, got ", block_size);
  if (options_.stride == 0) options_.stride = block_size;
  LUCID_CHECK(options_.stride > 0, "TextDataset: stride must be positive, got ", options_.stride);
  LUCID_CHECK(options_.pad_id >= 0 && options_.pad_id < tokenizer_->vocab_size(), "TextDataset: pad_id ",
              options_.pad_id, " is out of range for vocab_size ", tokenizer_->vocab_size());

  ids_ = tokenizer_->encode(text);
  // n tokens give n - 1 (input, next token) pairs.
  const int64_t pairs = static_cast<int64_t>(ids_.size()) - 1;
  const int64_t stride = options_.stride;
  if (options_.tail == Tail::Drop) {
    // Full windows only: start + block_size <= pairs.
    if (pairs >= block_size) size_ = static_cast<size_t>((pairs - block_size) / stride + 1);
  } else if (pairs >= 1) {
    // Window k covers targets up to k*stride + block_size; stop at the first
    // one reaching the last pair, and never start a window past the last pair
    // (stride > block_size would otherwise make an all-padding window).
    // ceil(a / b) written as a / b + (a % b != 0), which cannot overflow.
    const auto ceil_div = [](int64_t a, int64_t b) { return a / b + (a % b != 0); };
    const int64_t beyond_first = std::max<int64_t>(0, pairs - block_size);
    size_ = static_cast<size_t>(std::min(1 + ceil_div(beyond_first, stride), ceil_div(pairs, stride)));
  }
  LUCID_CHECK(size_ > 0, "TextDataset: the text is ", ids_.size(), " tokens, too short for one window (needs ",
              options_.tail == Tail::Drop ? block_size + 1 : 2, " with ",
              options_.tail == Tail::Drop ? "Tail::Drop" : "Tail::Pad", ")");
}

Example TextDataset::get(size_t index) const {
  LUCID_CHECK(index < size_, "TextDataset::get: index ", index, " is out of range for size ", size_);
  Tensor data = empty({block_size_}, kInt64), target = empty({block_size_}, kInt64);
  int64_t* x = data.data_ptr<int64_t>();
  int64_t* y = target.data_ptr<int64_t>();
  const size_t start = index * static_cast<size_t>(options_.stride);
  for (size_t j = 0; j < static_cast<size_t>(block_size_); ++j) {
    x[j] = start + j < ids_.size() ? ids_[start + j] : options_.pad_id;
    y[j] = start + j + 1 < ids_.size() ? ids_[start + j + 1] : kIgnoreIndex;
  }
  return {data, target};
}

}  // namespace lucid::data::text
