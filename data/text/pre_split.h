#pragma once
// How the BPE tokenizer cuts text into chunks before merging, so that merges
// never cross a chunk boundary (no token spans "dog." or "the cat").
//
// A simplified GPT-2 rule. Bytes fall into four classes: letters (A-Z, a-z and
// every byte >= 0x80, so UTF-8 characters stay inside their word), digits,
// whitespace (space, \t, \n, \v, \f, \r) and other (punctuation, control).
//   * A run of letters, of digits or of other bytes is one chunk, and takes
//     one space in front of it if there is one: "Hello, world!!" ->
//     "Hello" "," " world" "!!".
//   * A run of whitespace is one chunk, except that its last byte is left to
//     the next chunk when that byte is a space followed by a non-space:
//     "a \n  b" -> "a" " \n " " b".
//   * No chunk is longer than kMaxChunkBytes; a longer run is cut into
//     pieces, which bounds the cost of encoding one chunk.
// Concatenating the chunks gives back the text, byte for byte.

#include <cstddef>
#include <string_view>
#include <vector>

namespace lucid::data::text {

inline constexpr size_t kMaxChunkBytes = 64;

std::vector<std::string_view> pre_split(std::string_view text);

}  // namespace lucid::data::text
