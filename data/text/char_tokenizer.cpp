#include <lucid/data/text/char_tokenizer.h>

#include <algorithm>
#include <unordered_set>

#include <lucid/data/text/json.h>
#include <lucid/data/text/utf8.h>
#include <lucid/kernels/error.h>

namespace lucid::data::text {

namespace {

// Decodes `text` into code points; invalid UTF-8 raises naming `op` and the offset.
template <class Visit>
void for_each_code_point(std::string_view text, const char* op, Visit&& visit) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const auto cp = next_code_point(text, pos);
    LUCID_CHECK(cp, op, ": invalid UTF-8 at byte ", start, " (byte 0x", std::hex,
                unsigned(static_cast<unsigned char>(text[start])), ")");
    visit(*cp, start);
  }
}

}  // namespace

CharTokenizer::CharTokenizer(std::vector<char32_t> chars) : chars_(std::move(chars)) {
  std::sort(chars_.begin(), chars_.end());
  for (size_t i = 0; i < chars_.size(); ++i) {
    const char32_t cp = chars_[i];
    LUCID_CHECK(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF), "CharTokenizer: U+", std::hex,
                unsigned(cp), " is not a Unicode scalar value");
    LUCID_CHECK(i == 0 || chars_[i - 1] != cp, "CharTokenizer: character ", describe_code_point(cp),
                " appears twice in the vocabulary");
    ids_.emplace(cp, static_cast<int64_t>(i));
  }
}

CharTokenizer CharTokenizer::train(std::string_view text) {
  std::unordered_set<char32_t> seen;
  for_each_code_point(text, "CharTokenizer::train", [&](char32_t cp, size_t) { seen.insert(cp); });
  return CharTokenizer(std::vector<char32_t>(seen.begin(), seen.end()));  // the constructor sorts
}

std::vector<int64_t> CharTokenizer::encode(std::string_view text) const {
  std::vector<int64_t> ids;
  ids.reserve(text.size());
  for_each_code_point(text, "CharTokenizer::encode", [&](char32_t cp, size_t offset) {
    const auto it = ids_.find(cp);
    LUCID_CHECK(it != ids_.end(), "CharTokenizer::encode: character ", describe_code_point(cp), " at byte ",
                offset, " is not in the vocabulary (", chars_.size(), " characters)");
    ids.push_back(it->second);
  });
  return ids;
}

std::string CharTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    LUCID_CHECK(ids[i] >= 0 && ids[i] < vocab_size(), "CharTokenizer::decode: id ", ids[i], " at position ", i,
                " is out of range for vocab_size ", vocab_size());
    append_utf8(out, chars_[static_cast<size_t>(ids[i])]);
  }
  return out;
}

// {"type": "char", "version": 1, "chars": ["\n", " ", "!", ...]}: one string
// per id, readable in an editor; \uXXXX escapes keep control characters legal.
void CharTokenizer::save(const std::string& path) const {
  std::vector<json::Value> chars;
  for (const char32_t cp : chars_) {
    std::string s;
    append_utf8(s, cp);
    chars.push_back(json::Value::of_string(std::move(s)));
  }
  json::write_file(path, json::Value::of_object({{"type", json::Value::of_string("char")},
                                                 {"version", json::Value::of_integer(1)},
                                                 {"chars", json::Value::of_array(std::move(chars))}}));
}

CharTokenizer CharTokenizer::load(const std::string& path) { return from_json(json::read_file(path), path); }

CharTokenizer CharTokenizer::from_json(const json::Value& doc, const std::string& path) {
  const json::Value& type = json::member(doc, "type", json::Kind::String, path);
  if (type.string != "char") json::fail(path, type, "\"type\" is \"" + type.string + "\", expected \"char\"");
  const json::Value& list = json::member(doc, "chars", json::Kind::Array, path);
  std::vector<char32_t> chars;
  for (size_t i = 0; i < list.array.size(); ++i) {
    const std::string what = "chars[" + std::to_string(i) + "]";
    const std::string& s = json::expect(list.array[i], json::Kind::String, what, path).string;
    size_t pos = 0;
    const auto cp = s.empty() ? std::nullopt : next_code_point(s, pos);
    if (!cp || pos != s.size()) json::fail(path, list.array[i], what + " must be exactly one UTF-8 character");
    if (!chars.empty() && *cp <= chars.back())
      json::fail(path, list.array[i], what + " is not in ascending order (or repeats a character)");
    chars.push_back(*cp);
  }
  return CharTokenizer(std::move(chars));
}

}  // namespace lucid::data::text
