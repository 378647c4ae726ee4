#pragma once
// A character-level tokenizer: one token per Unicode code point of the text.
//
//   CharTokenizer::train(text)   vocabulary = the sorted distinct code points
//   encode / decode / save       id i is the i-th smallest code point
//   CharTokenizer::load(path)    read a file written by save()
//
// Why code points, not bytes: "char-level" means what a reader calls a
// character, so "é" is one token, not two meaningless halves (byte-level
// modelling is what BpeTokenizer is for). The price is that text must be valid
// UTF-8; invalid bytes raise an error naming their byte offset.
//
// Why an error for unseen characters, not an <unk> id: the vocabulary is built
// from the corpus, so an unseen character means the wrong text or tokenizer;
// an error naming the character and its byte offset surfaces that at once,
// where a silent <unk> would hide it. Build the vocabulary from all splits.

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <lucid/data/text/tokenizer.h>

namespace lucid::data::text {

namespace json {
struct Value;
}

class CharTokenizer : public Tokenizer {
 public:
  // `chars` need not be sorted; duplicates and invalid code points raise.
  explicit CharTokenizer(std::vector<char32_t> chars);

  static CharTokenizer train(std::string_view text);
  static CharTokenizer load(const std::string& path);
  // The parsed JSON of a saved file; `source` names it in errors.
  static CharTokenizer from_json(const json::Value& doc, const std::string& source);

  std::vector<int64_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(chars_.size()); }
  void save(const std::string& path) const override;

  const std::vector<char32_t>& chars() const { return chars_; }

 private:
  std::vector<char32_t> chars_;                 // id -> code point, ascending
  std::unordered_map<char32_t, int64_t> ids_;  // code point -> id
};

}  // namespace lucid::data::text
