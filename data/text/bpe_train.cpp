// BpeTokenizer::train: learning the merges (the algorithm is described in bpe_tokenizer.h).
#include <lucid/data/text/bpe_tokenizer.h>

#include <algorithm>
#include <queue>

#include <lucid/data/text/bpe_pair.h>
#include <lucid/data/text/pre_split.h>
#include <lucid/kernels/error.h>

namespace lucid::data::text {

using bpe::merge_pair;
using bpe::pair_key;

namespace {

// A distinct chunk of the corpus as token ids, and how often the chunk occurs.
struct Word {
  std::vector<int32_t> ids;
  int64_t count;
};

// A candidate for the next merge. The heap is lazy: an entry is stale when its
// count no longer matches the pair's current count, and is skipped when popped.
struct Candidate {
  int64_t count;
  uint64_t key;
};

// Most frequent first; among equals the smallest (left, right) pair first.
struct Lower {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.count != b.count ? a.count < b.count : a.key > b.key;
  }
};

// The text with every special token cut out, as the pieces between them.
std::vector<std::string_view> cut_out_specials(std::string_view text, const std::vector<std::string>& specials) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  for (;;) {
    size_t best = std::string_view::npos, best_len = 0;
    for (const auto& s : specials) {
      const size_t at = text.find(s, start);
      if (at < best || (at == best && s.size() > best_len)) best = at, best_len = s.size();
    }
    if (best == std::string_view::npos) break;
    pieces.push_back(text.substr(start, best - start));
    start = best + best_len;
  }
  pieces.push_back(text.substr(start));
  return pieces;
}

// The distinct chunks of `text` with their counts, in order of first occurrence.
std::vector<Word> count_words(std::string_view text, const std::vector<std::string>& specials) {
  std::unordered_map<std::string_view, size_t> index;
  std::vector<Word> words;
  for (const std::string_view piece : cut_out_specials(text, specials)) {
    for (const std::string_view chunk : pre_split(piece)) {
      const auto [it, inserted] = index.emplace(chunk, words.size());
      if (inserted) {
        Word w{{}, 0};
        for (const char c : chunk) w.ids.push_back(static_cast<unsigned char>(c));
        words.push_back(std::move(w));
      }
      ++words[it->second].count;
    }
  }
  return words;
}

}  // namespace

BpeTokenizer BpeTokenizer::train(std::string_view text, int64_t vocab_size,
                                 std::vector<std::string> special_tokens) {
  const int64_t num_specials = static_cast<int64_t>(special_tokens.size());
  LUCID_CHECK(vocab_size >= 256 + num_specials, "BpeTokenizer::train: vocab_size ", vocab_size,
              " is below 256 byte tokens + ", num_specials, " special tokens");
  BpeTokenizer(std::vector<Merge>{}, special_tokens);  // validate the special tokens up front
  const int64_t num_merges = vocab_size - 256 - num_specials;

  std::vector<Word> words = count_words(text, special_tokens);

  // pair -> weighted count, and pair -> the words that (may) contain it.
  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<int32_t>> where;
  for (size_t w = 0; w < words.size(); ++w) {
    const auto& ids = words[w].ids;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      const uint64_t key = pair_key(ids[i], ids[i + 1]);
      pair_count[key] += words[w].count;
      auto& list = where[key];
      if (list.empty() || list.back() != static_cast<int32_t>(w)) list.push_back(static_cast<int32_t>(w));
    }
  }
  std::priority_queue<Candidate, std::vector<Candidate>, Lower> heap;
  for (const auto& [key, count] : pair_count) heap.push({count, key});

  std::vector<Merge> merges;
  std::vector<uint64_t> changed;
  while (static_cast<int64_t>(merges.size()) < num_merges) {
    // The best pair whose heap entry is current.
    while (!heap.empty()) {
      const auto it = pair_count.find(heap.top().key);
      if (it != pair_count.end() && it->second == heap.top().count && it->second > 0) break;
      heap.pop();
    }
    if (heap.empty()) break;  // nothing left to merge
    const uint64_t key = heap.top().key;
    heap.pop();
    const auto left = static_cast<int32_t>(key >> 32), right = static_cast<int32_t>(key & 0xFFFFFFFFu);
    const auto merged = static_cast<int32_t>(256 + merges.size());
    merges.push_back({left, right});

    // Revisit only the words containing the pair: take their pairs out of the
    // counts, merge, and put the new pairs back in.
    std::vector<int32_t> hits = std::move(where[key]);
    where.erase(key);
    std::sort(hits.begin(), hits.end());
    hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
    changed.clear();
    for (const int32_t w : hits) {
      auto& ids = words[static_cast<size_t>(w)].ids;
      const int64_t count = words[static_cast<size_t>(w)].count;
      for (size_t i = 0; i + 1 < ids.size(); ++i) {
        const uint64_t k = pair_key(ids[i], ids[i + 1]);
        pair_count[k] -= count;
        changed.push_back(k);
      }
      merge_pair(ids, left, right, merged);
      for (size_t i = 0; i + 1 < ids.size(); ++i) {
        const uint64_t k = pair_key(ids[i], ids[i + 1]);
        pair_count[k] += count;
        changed.push_back(k);
        if (ids[i] == merged || ids[i + 1] == merged) where[k].push_back(w);  // a new pair for this word
      }
    }
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    for (const uint64_t k : changed) {
      const auto it = pair_count.find(k);
      if (it->second > 0) {
        heap.push({it->second, k});
      } else {
        pair_count.erase(it);
      }
    }
  }
  return BpeTokenizer(std::move(merges), std::move(special_tokens));
}

}  // namespace lucid::data::text
