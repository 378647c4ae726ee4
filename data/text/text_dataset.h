#pragma once
// A language-modelling dataset: fixed-size windows over one token stream.
//
//   TextDataset(text, tokenizer, block_size, options)
//     tokenizes the text once, in the constructor, into one id stream;
//   get(i) -> Example{data [block_size] int64, target [block_size] int64}:
//     data = ids[i*stride, i*stride + block_size), target = the same window
//     shifted by one token (the next token at every position), as in nanoGPT.
//
// Windows start at 0, stride, 2*stride, ... . With Tail::Pad (the default)
// they continue until every token has been a target once; a window running
// past the end pads its data with options.pad_id and its target with
// kIgnoreIndex (-100), which cross_entropy skips by default, so padding adds
// no loss. With Tail::Drop only full windows are kept.
//
// get() reads the id stream only, so it is cheap and safe from many threads.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <lucid/data/dataset.h>
#include <lucid/data/text/tokenizer.h>

namespace lucid::data::text {

// The target of padded positions: cross_entropy's default ignore_index.
inline constexpr int64_t kIgnoreIndex = -100;

enum class Tail { Pad, Drop };

struct TextDatasetOptions {
  int64_t stride = 0;  // 0: block_size, i.e. windows that do not overlap
  Tail tail = Tail::Pad;
  int64_t pad_id = 0;  // the data value of padded positions; must be a valid id
};

class TextDataset : public Dataset {
 public:
  // Raises if block_size, stride or pad_id is invalid or the text is too short
  // to make one window (2 tokens with Tail::Pad, block_size + 1 with Drop).
  TextDataset(std::string_view text, std::shared_ptr<const Tokenizer> tokenizer, int64_t block_size,
              TextDatasetOptions options = {});

  size_t size() const override { return size_; }
  // Raises naming the index and size if index >= size().
  Example get(size_t index) const override;

  const std::vector<int64_t>& ids() const { return ids_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  int64_t block_size() const { return block_size_; }
  int64_t stride() const { return options_.stride; }

 private:
  std::shared_ptr<const Tokenizer> tokenizer_;
  int64_t block_size_;
  TextDatasetOptions options_;
  std::vector<int64_t> ids_;
  size_t size_ = 0;
};

}  // namespace lucid::data::text
