#pragma once
// Internal to the BPE files: a pair of token ids packed into one hash key.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lucid::data::text::bpe {

// (left, right) -> one 64-bit key; keys order as the pairs do lexicographically.
inline uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// Replaces every occurrence of (left, right) in `ids`, scanning left to right
// (so "a a a" with (a, a) becomes "z a"), by `merged`.
template <class Id>
void merge_pair(std::vector<Id>& ids, Id left, Id right, Id merged) {
  size_t out = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i + 1 < ids.size() && ids[i] == left && ids[i + 1] == right) {
      ids[out++] = merged;
      ++i;
    } else {
      ids[out++] = ids[i];
    }
  }
  ids.resize(out);
}

}  // namespace lucid::data::text::bpe
