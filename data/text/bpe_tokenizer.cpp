#include <lucid/data/text/bpe_tokenizer.h>

#include <climits>

#include <lucid/data/text/bpe_pair.h>
#include <lucid/data/text/json.h>
#include <lucid/data/text/pre_split.h>
#include <lucid/kernels/error.h>

namespace lucid::data::text {

using bpe::merge_pair;
using bpe::pair_key;

namespace {
// Names the chunking rule in saved files, so a file made under another rule is refused.
constexpr const char* kPreSplitName = "lucid-simple-v1";
}  // namespace

BpeTokenizer::BpeTokenizer(std::vector<Merge> merges, std::vector<std::string> special_tokens)
    : merges_(std::move(merges)), special_tokens_(std::move(special_tokens)) {
  for (int c = 0; c < 256; ++c) token_bytes_.emplace_back(1, static_cast<char>(c));
  for (size_t r = 0; r < merges_.size(); ++r) {
    const auto [left, right] = merges_[r];
    const int64_t known = 256 + static_cast<int64_t>(r);
    LUCID_CHECK(left >= 0 && left < known && right >= 0 && right < known, "BpeTokenizer: merge ", r, " (", left,
                ", ", right, ") references a token that does not exist yet (ids 0..", known - 1, ")");
    const bool fresh = rank_.emplace(pair_key(left, right), static_cast<int32_t>(r)).second;
    LUCID_CHECK(fresh, "BpeTokenizer: merge ", r, " (", left, ", ", right, ") repeats an earlier merge");
    token_bytes_.push_back(token_bytes_[static_cast<size_t>(left)] + token_bytes_[static_cast<size_t>(right)]);
  }
  for (size_t i = 0; i < special_tokens_.size(); ++i) {
    LUCID_CHECK(!special_tokens_[i].empty(), "BpeTokenizer: special token ", i, " is empty");
    for (size_t j = 0; j < i; ++j)
      LUCID_CHECK(special_tokens_[i] != special_tokens_[j], "BpeTokenizer: special token \"", special_tokens_[i],
                  "\" is given twice");
  }
}

int64_t BpeTokenizer::vocab_size() const {
  return static_cast<int64_t>(token_bytes_.size() + special_tokens_.size());
}

int64_t BpeTokenizer::special_token_id(std::string_view token) const {
  for (size_t i = 0; i < special_tokens_.size(); ++i)
    if (special_tokens_[i] == token) return static_cast<int64_t>(token_bytes_.size() + i);
  throw Error(detail::str_cat("BpeTokenizer: \"", token, "\" is not a special token (", special_tokens_.size(),
                              " special tokens)"));
}

const std::string& BpeTokenizer::token_bytes(int64_t id) const {
  LUCID_CHECK(id >= 0 && id < vocab_size(), "BpeTokenizer: id ", id, " is out of range for vocab_size ",
              vocab_size());
  const auto i = static_cast<size_t>(id);
  return i < token_bytes_.size() ? token_bytes_[i] : special_tokens_[i - token_bytes_.size()];
}

void BpeTokenizer::encode_chunk(std::string_view chunk, std::vector<int32_t>& ids) const {
  ids.clear();
  for (const char c : chunk) ids.push_back(static_cast<unsigned char>(c));
  for (;;) {
    int32_t best = INT32_MAX;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      const auto it = rank_.find(pair_key(ids[i], ids[i + 1]));
      if (it != rank_.end() && it->second < best) best = it->second;
    }
    if (best == INT32_MAX) return;
    const Merge m = merges_[static_cast<size_t>(best)];
    merge_pair(ids, m.left, m.right, 256 + best);
  }
}

std::vector<int64_t> BpeTokenizer::encode(std::string_view text) const {
  std::vector<int64_t> out;
  out.reserve(text.size() / 2);
  // Chunks repeat a lot ("the", " and"), so each call keeps its own cache;
  // a per-call cache keeps encode() const and safe to call from many threads.
  std::unordered_map<std::string_view, std::vector<int32_t>> cache;
  std::vector<int32_t> ids;
  const auto encode_plain = [&](std::string_view piece) {
    for (const std::string_view chunk : pre_split(piece)) {
      auto it = cache.find(chunk);
      if (it == cache.end()) {
        encode_chunk(chunk, ids);
        it = cache.emplace(chunk, ids).first;
      }
      out.insert(out.end(), it->second.begin(), it->second.end());
    }
  };
  size_t start = 0;
  for (;;) {
    // The earliest special token from `start` (the longest if several start there).
    size_t best = std::string_view::npos, best_len = 0;
    int64_t best_id = -1;
    for (size_t i = 0; i < special_tokens_.size(); ++i) {
      const size_t at = text.find(special_tokens_[i], start);
      if (at < best || (at == best && special_tokens_[i].size() > best_len)) {
        best = at, best_len = special_tokens_[i].size();
        best_id = static_cast<int64_t>(token_bytes_.size() + i);
      }
    }
    if (best == std::string_view::npos) break;
    encode_plain(text.substr(start, best - start));
    out.push_back(best_id);
    start = best + best_len;
  }
  encode_plain(text.substr(start));
  return out;
}

std::string BpeTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    LUCID_CHECK(ids[i] >= 0 && ids[i] < vocab_size(), "BpeTokenizer::decode: id ", ids[i], " at position ", i,
                " is out of range for vocab_size ", vocab_size());
    out += token_bytes(ids[i]);
  }
  return out;
}

// {"type": "bpe", "version": 1, "pre_split": "lucid-simple-v1",
//  "special_tokens": ["<|endoftext|>"], "merges": [[32, 116], [104, 101], ...]}
// Merges are stored as id pairs, not strings: a token may be any bytes (half a
// UTF-8 character), which a JSON string cannot hold faithfully.
void BpeTokenizer::save(const std::string& path) const {
  std::vector<json::Value> specials, merges;
  for (const auto& s : special_tokens_) specials.push_back(json::Value::of_string(s));
  for (const auto& m : merges_)
    merges.push_back(json::Value::of_array({json::Value::of_integer(m.left), json::Value::of_integer(m.right)}));
  json::write_file(path, json::Value::of_object({{"type", json::Value::of_string("bpe")},
                                                 {"version", json::Value::of_integer(1)},
                                                 {"pre_split", json::Value::of_string(kPreSplitName)},
                                                 {"special_tokens", json::Value::of_array(std::move(specials))},
                                                 {"merges", json::Value::of_array(std::move(merges))}}));
}

BpeTokenizer BpeTokenizer::load(const std::string& path) { return from_json(json::read_file(path), path); }

BpeTokenizer BpeTokenizer::from_json(const json::Value& doc, const std::string& path) {
  using json::Kind;
  const json::Value& type = json::member(doc, "type", Kind::String, path);
  if (type.string != "bpe") json::fail(path, type, "\"type\" is \"" + type.string + "\", expected \"bpe\"");
  const json::Value& rule = json::member(doc, "pre_split", Kind::String, path);
  if (rule.string != kPreSplitName)
    json::fail(path, rule, "\"pre_split\" is \"" + rule.string + "\", this build splits by \"" + kPreSplitName + "\"");

  std::vector<std::string> specials;
  for (const auto& v : json::member(doc, "special_tokens", Kind::Array, path).array)
    specials.push_back(json::expect(v, Kind::String, "a special token", path).string);

  const json::Value& list = json::member(doc, "merges", Kind::Array, path);
  std::vector<Merge> merges;
  for (size_t r = 0; r < list.array.size(); ++r) {
    const std::string what = "merges[" + std::to_string(r) + "]";
    const json::Value& pair = json::expect(list.array[r], Kind::Array, what, path);
    if (pair.array.size() != 2) json::fail(path, pair, what + " must be a pair [left, right]");
    int32_t ids[2];
    for (int k = 0; k < 2; ++k) {
      const int64_t id = json::expect(pair.array[k], Kind::Integer, what, path).integer;
      const int64_t known = 256 + static_cast<int64_t>(r);
      if (id < 0 || id >= known)
        json::fail(path, pair.array[k], what + " references token " + std::to_string(id) +
                                            ", which does not exist yet (ids 0.." + std::to_string(known - 1) + ")");
      ids[k] = static_cast<int32_t>(id);
    }
    merges.push_back({ids[0], ids[1]});
  }
  try {
    return BpeTokenizer(std::move(merges), std::move(specials));
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace lucid::data::text
