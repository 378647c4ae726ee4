#pragma once
// A byte-level BPE tokenizer (as GPT-2's): any byte string encodes, and
// decode(encode(s)) == s for every s, valid UTF-8 or not.
//
//   BpeTokenizer::train(text, vocab_size)   learn merges from a corpus
//   BpeTokenizer(merges, special_tokens)    build from known merges
//   BpeTokenizer::load(path) / save(path)   JSON (see save() for the format)
//   encode / decode / vocab_size            the Tokenizer interface
//   special_token_id("<|endoftext|>")       ids of the special tokens
//
// Ids: 0..255 are the bytes; 256 + r is the token made by merge r (merges in
// the order learned, which is also their priority when encoding); after them
// come the special tokens, in the order given.
//
// Training: the text is cut into chunks by pre_split() (merges never cross a
// chunk) and special tokens are cut out. Then, repeatedly, the most frequent
// adjacent pair of tokens (counted over all chunks with their multiplicity)
// is merged into a new token; ties go to the smallest (left, right) pair, so
// training is deterministic. Pair counts are updated incrementally: a merge
// only revisits the distinct chunks that contain the merged pair.
//
// Encoding a chunk: start from its bytes and repeatedly merge the adjacent
// pair with the lowest merge rank (all its occurrences, left to right) until
// no pair has a rank -- which reproduces how training tokenized the corpus.
// Special-token strings in the text encode to their ids.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <lucid/data/text/tokenizer.h>

namespace lucid::data::text {

namespace json {
struct Value;
}

class BpeTokenizer : public Tokenizer {
 public:
  // Merge r joins tokens `left` and `right` (both < 256 + r) into token 256 + r.
  struct Merge {
    int32_t left;
    int32_t right;
    bool operator==(const Merge&) const = default;
  };

  // Raises on a merge referencing a token not yet made, a repeated merge, or
  // an empty or repeated special token.
  explicit BpeTokenizer(std::vector<Merge> merges, std::vector<std::string> special_tokens = {});

  // Learns vocab_size - 256 - special_tokens.size() merges from `text`. Stops
  // early (a smaller vocab_size()) only if no adjacent pair is left to merge.
  static BpeTokenizer train(std::string_view text, int64_t vocab_size,
                            std::vector<std::string> special_tokens = {});
  static BpeTokenizer load(const std::string& path);
  // The parsed JSON of a saved file; `source` names it in errors.
  static BpeTokenizer from_json(const json::Value& doc, const std::string& source);

  std::vector<int64_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override;
  void save(const std::string& path) const override;

  const std::vector<Merge>& merges() const { return merges_; }
  const std::vector<std::string>& special_tokens() const { return special_tokens_; }
  // Raises if `token` is not one of the special tokens.
  int64_t special_token_id(std::string_view token) const;
  // The bytes token `id` stands for (a special token's text for a special id).
  const std::string& token_bytes(int64_t id) const;

 private:
  void encode_chunk(std::string_view chunk, std::vector<int32_t>& out) const;

  std::vector<Merge> merges_;
  std::vector<std::string> special_tokens_;
  std::vector<std::string> token_bytes_;           // id -> bytes, ids < 256 + merges
  std::unordered_map<uint64_t, int32_t> rank_;     // pair_key(left, right) -> merge rank
};

}  // namespace lucid::data::text
