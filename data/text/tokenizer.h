#pragma once
// The tokenizer interface shared by the char-level and byte-level BPE tokenizers.
//
//   Tokenizer          encode / decode / vocab_size / save
//   load_tokenizer     read a saved tokenizer; the JSON's "type" picks the class
//
// Tokenizers are immutable once built, so one instance can be shared (through a
// shared_ptr) by datasets and threads.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lucid::data::text {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int64_t> encode(std::string_view text) const = 0;
  // Ids outside [0, vocab_size()) raise a lucid::Error naming the id.
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  // Saves as JSON with a "type" key ("char" or "bpe"), written atomically.
  virtual void save(const std::string& path) const = 0;
};

// Loads a file written by Tokenizer::save. A malformed or truncated file, a
// wrong "type" or inconsistent content raises a lucid::Error naming the file.
std::shared_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace lucid::data::text
