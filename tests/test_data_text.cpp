// The char-level tokenizer, the fortune readers and TextDataset: windows and
// their shifted targets, padding that cross_entropy ignores, sizes, errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <filesystem>
#include <fstream>

#include <lucid/lucid.h>

#include "temp_dir.h"

using namespace lucid;
using namespace lucid::data::text;
namespace fs = std::filesystem;

namespace {

const std::string kFortunes = "/usr/share/games/fortunes";

// A fresh scratch directory per process, removed at exit.
const testing::TempDir& scratch() {
  static const testing::TempDir dir;
  return dir;
}

std::vector<int64_t> values(const Tensor& t) {
  const int64_t* p = t.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + t.numel());
}

// Wraps a tokenizer and counts encode() calls.
class CountingTokenizer : public Tokenizer {
 public:
  explicit CountingTokenizer(std::shared_ptr<const Tokenizer> inner) : inner_(std::move(inner)) {}
  std::vector<int64_t> encode(std::string_view text) const override {
    ++encodes;
    return inner_->encode(text);
  }
  std::string decode(const std::vector<int64_t>& ids) const override { return inner_->decode(ids); }
  int64_t vocab_size() const override { return inner_->vocab_size(); }
  void save(const std::string& path) const override { inner_->save(path); }
  mutable std::atomic<int> encodes{0};

 private:
  std::shared_ptr<const Tokenizer> inner_;
};

// "abcdefghij" with ids a=0 .. j=9.
std::shared_ptr<const Tokenizer> letters() {
  return std::make_shared<CharTokenizer>(CharTokenizer::train("abcdefghij"));
}

}  // namespace

// ---- CharTokenizer -----------------------------------------------------------

TEST_CASE("CharTokenizer: vocabulary is the sorted distinct code points; round trip on a fortune file") {
  const std::string text = read_fortunes({kFortunes + "/fortunes"});
  const auto tok = CharTokenizer::train(text);
  CHECK(tok.vocab_size() > 60);
  CHECK(tok.vocab_size() < 128);  // that file is ASCII
  CHECK(std::is_sorted(tok.chars().begin(), tok.chars().end()));
  CHECK(std::count(tok.chars().begin(), tok.chars().end(), U'\n') == 1);
  const auto ids = tok.encode(text);
  CHECK(ids.size() == text.size());
  CHECK(tok.decode(ids) == text);
}

TEST_CASE("CharTokenizer: a multi-byte UTF-8 character is one token") {
  const auto tok = CharTokenizer::train("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80");
  // ' ' a c f e-acute U+4E2D U+1F600
  CHECK(tok.chars() == std::vector<char32_t>{U' ', U'a', U'c', U'f', 0xE9, 0x4E2D, 0x1F600});
  CHECK(tok.encode("\xc3\xa9\xf0\x9f\x98\x80" "a") == std::vector<int64_t>{4, 6, 1});
  CHECK(tok.decode({4, 6, 1}) == "\xc3\xa9\xf0\x9f\x98\x80" "a");
}

TEST_CASE("CharTokenizer: unknown characters and invalid UTF-8 are errors naming the character and byte") {
  const auto tok = CharTokenizer::train("hello world");
  CHECK_THROWS_WITH_AS(tok.encode("hello Wor"),
                       doctest::Contains("character 'W' (U+0057) at byte 6 is not in the vocabulary (8 characters)"),
                       Error);
  CHECK_THROWS_WITH_AS(tok.encode("ho\nl"), doctest::Contains("character U+000A at byte 2"), Error);
  CHECK_THROWS_WITH_AS(tok.encode("hell\xc3\xa9"), doctest::Contains("'\xc3\xa9' (U+00E9) at byte 4"), Error);
  CHECK_THROWS_WITH_AS(tok.encode("he\xffl"), doctest::Contains("invalid UTF-8 at byte 2 (byte 0xff)"), Error);
  CHECK_THROWS_WITH_AS(CharTokenizer::train("ab\xc3"), doctest::Contains("train: invalid UTF-8 at byte 2"), Error);
  CHECK_THROWS_WITH_AS(CharTokenizer::train("\xc0\xaf"), doctest::Contains("invalid UTF-8 at byte 0"), Error);  // overlong '/'
  CHECK_THROWS_WITH_AS(CharTokenizer::train("\xed\xa0\x80"), doctest::Contains("invalid UTF-8"), Error);  // surrogate
  CHECK_THROWS_WITH_AS(tok.decode({0, 8}), doctest::Contains("id 8 at position 1 is out of range for vocab_size 8"),
                       Error);
  CHECK_THROWS_WITH_AS(CharTokenizer({U'a', U'a'}), doctest::Contains("'a' (U+0061) appears twice"), Error);
}

TEST_CASE("CharTokenizer: save/load keeps control and non-ASCII characters") {
  const std::string text = std::string("a\tb\bc\x01\n\"\\") + "\xc3\xa9\xf0\x9f\x98\x80";
  const auto tok = CharTokenizer::train(text);
  const std::string path = scratch() / "char.json";
  tok.save(path);
  const auto loaded = load_tokenizer(path);
  CHECK(loaded->vocab_size() == tok.vocab_size());
  CHECK(loaded->encode(text) == tok.encode(text));
  CHECK(CharTokenizer::load(path).chars() == tok.chars());

  const std::string bad = scratch() / "bad_char.json";
  std::ofstream(bad) << R"({"type": "char", "chars": ["a", "bc"]})";
  CHECK_THROWS_WITH_AS(load_tokenizer(bad), doctest::Contains(": chars[1] must be exactly one UTF-8 character"),
                       Error);
  std::ofstream(bad) << R"({"type": "char", "chars": ["b", "a"]})";
  CHECK_THROWS_WITH_AS(load_tokenizer(bad), doctest::Contains("chars[1] is not in ascending order"), Error);
}

// ---- fortune readers -----------------------------------------------------------

TEST_CASE("read_fortunes drops the % lines and ends each fortune with the separator") {
  const std::string path = scratch() / "mini";
  std::ofstream(path) << "one\n%\ntwo\nlines\n%\n%\nlast no newline";
  CHECK(read_fortunes({path}) == "one\n\ntwo\nlines\n\nlast no newline\n");
  CHECK(read_fortunes({path, path}, "|") == "one\n|two\nlines\n|last no newline|one\n|two\nlines\n|last no newline|");

  const std::string real = read_fortunes({kFortunes + "/fortunes"}, "<|endoftext|>");
  CHECK(real.find("\n%\n") == std::string::npos);
  CHECK(real.rfind("%\n", 0) == std::string::npos);
  CHECK(real.find("<|endoftext|>") != std::string::npos);
}

TEST_CASE("fortune_files lists the text files, sorted, without .dat and .u8") {
  const auto files = fortune_files(kFortunes);
  CHECK(files.size() > 10);
  CHECK(std::is_sorted(files.begin(), files.end()));
  for (const auto& f : files) {
    CHECK(fs::path(f).extension() != ".dat");
    CHECK(fs::path(f).extension() != ".u8");
  }
  CHECK(std::find(files.begin(), files.end(), kFortunes + "/fortunes") != files.end());
  CHECK_THROWS_WITH_AS(fortune_files("/no/such/dir"), doctest::Contains("/no/such/dir is not a directory"), Error);
  CHECK_THROWS_WITH_AS(read_text_file("/no/such/file"), doctest::Contains("cannot open /no/such/file"), Error);
}

// ---- TextDataset -----------------------------------------------------------------

TEST_CASE("TextDataset: windows of block_size and targets shifted by one; the tail is padded") {
  // 10 tokens = 9 (input, next) pairs; block 4, stride 4: windows at 0, 4, 8.
  const data::text::TextDataset ds("abcdefghij", letters(), 4);
  REQUIRE(ds.size() == 3);
  const auto first = ds.get(0);
  CHECK(first.data.sizes() == Shape{4});
  CHECK(first.data.dtype() == kInt64);
  CHECK(values(first.data) == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(values(first.target) == std::vector<int64_t>{1, 2, 3, 4});
  CHECK(values(ds.get(1).data) == std::vector<int64_t>{4, 5, 6, 7});
  CHECK(values(ds.get(1).target) == std::vector<int64_t>{5, 6, 7, 8});
  // The last window: data "ij" + pad_id 0, target "j" + ignore_index.
  CHECK(values(ds.get(2).data) == std::vector<int64_t>{8, 9, 0, 0});
  CHECK(values(ds.get(2).target) == std::vector<int64_t>{9, kIgnoreIndex, kIgnoreIndex, kIgnoreIndex});
}

TEST_CASE("TextDataset: stride, Tail::Drop, pad_id and the window count") {
  const auto tok = letters();
  // Stride 2: windows at 0, 2, 4, 6; the one at 6 is the first to reach the last pair.
  const data::text::TextDataset overlap("abcdefghij", tok, 4, {.stride = 2, .pad_id = 9});
  REQUIRE(overlap.size() == 4);
  CHECK(values(overlap.get(1).data) == std::vector<int64_t>{2, 3, 4, 5});
  CHECK(values(overlap.get(3).data) == std::vector<int64_t>{6, 7, 8, 9});
  CHECK(values(overlap.get(3).target) == std::vector<int64_t>{7, 8, 9, kIgnoreIndex});

  // Drop keeps full windows only: starts 0 and 4 (4 + 4 targets end at index 8).
  const data::text::TextDataset drop("abcdefghij", tok, 4, {.tail = Tail::Drop});
  REQUIRE(drop.size() == 2);
  CHECK(values(drop.get(1).target) == std::vector<int64_t>{5, 6, 7, 8});
  const data::text::TextDataset drop_overlap("abcdefghij", tok, 4, {.stride = 1, .tail = Tail::Drop});
  CHECK(drop_overlap.size() == 6);  // starts 0..5

  // Exactly fitting text: 9 tokens, block 8 -> one window, no padding either way.
  CHECK(data::text::TextDataset("abcdefghi", tok, 8).size() == 1);
  CHECK(data::text::TextDataset("abcdefghi", tok, 8, {.tail = Tail::Drop}).size() == 1);
  // Two tokens make one padded window.
  CHECK(values(data::text::TextDataset("ab", tok, 3).get(0).target) ==
        std::vector<int64_t>{1, kIgnoreIndex, kIgnoreIndex});
}

TEST_CASE("TextDataset: bad arguments and out-of-range indices are errors that name them") {
  const auto tok = letters();
  const data::text::TextDataset ds("abcdefghij", tok, 4);
  CHECK_THROWS_WITH_AS(ds.get(3), doctest::Contains("TextDataset::get: index 3 is out of range for size 3"), Error);
  CHECK_THROWS_WITH_AS(data::text::TextDataset("abc", tok, 0), doctest::Contains("block_size must be positive, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(data::text::TextDataset("abc", tok, 2, {.stride = -1}),
                       doctest::Contains("stride must be positive, got -1"), Error);
  CHECK_THROWS_WITH_AS(data::text::TextDataset("abc", tok, 2, {.pad_id = 10}),
                       doctest::Contains("pad_id 10 is out of range for vocab_size 10"), Error);
  CHECK_THROWS_WITH_AS(data::text::TextDataset("a", tok, 2),
                       doctest::Contains("the text is 1 tokens, too short for one window (needs 2 with Tail::Pad)"),
                       Error);
  CHECK_THROWS_WITH_AS(data::text::TextDataset("abc", tok, 4, {.tail = Tail::Drop}),
                       doctest::Contains("needs 5 with Tail::Drop"), Error);
  CHECK_THROWS_WITH_AS(data::text::TextDataset("abc", nullptr, 4), doctest::Contains("tokenizer is null"), Error);
}

TEST_CASE("TextDataset tokenizes once, in the constructor; get() only slices") {
  const auto counting = std::make_shared<CountingTokenizer>(letters());
  const data::text::TextDataset ds("abcdefghijabcdefghij", counting, 3, {.stride = 1});
  CHECK(counting->encodes == 1);
  for (size_t i = 0; i < ds.size(); ++i) ds.get(i);
  CHECK(counting->encodes == 1);
}

TEST_CASE("TextDataset over BPE-tokenized fortunes: windows tile the id stream and decode to the text") {
  const std::string text = read_fortunes({kFortunes + "/fortunes"});
  const auto bpe = std::make_shared<BpeTokenizer>(BpeTokenizer::train(text, 300));
  const data::text::TextDataset ds(text, bpe, 64);
  const auto& ids = ds.ids();
  CHECK(ds.size() == (ids.size() - 1 + 63) / 64);
  std::vector<int64_t> stream;
  for (size_t i = 0; i < ds.size(); ++i) {
    const auto ex = ds.get(i);
    const auto x = values(ex.data), y = values(ex.target);
    for (size_t j = 0; j + 1 < x.size(); ++j)
      if (y[j] != kIgnoreIndex && y[j] != x[j + 1]) FAIL("window ", i, " position ", j, ": target is not the next token");
    stream.insert(stream.end(), x.begin(), x.end());
  }
  stream.resize(ids.size());  // drop the padding
  CHECK(stream == ids);
  CHECK(bpe->decode(stream) == text);
}

TEST_CASE("Padded targets add no loss: cross_entropy ignores kIgnoreIndex") {
  // cross_entropy's default ignore_index is -100 == kIgnoreIndex, so the loss
  // over a padded window equals the loss over its real positions only.
  const data::text::TextDataset ds("abcdefghij", letters(), 4);
  const auto last = ds.get(2);  // one real target, three padded
  const Tensor logits = randn({4, 10}, kFloat64);
  const Tensor padded = nn::functional::cross_entropy(logits, last.target);
  const Tensor real = nn::functional::cross_entropy(logits.narrow(0, 0, 1), last.target.narrow(0, 0, 1));
  CHECK(padded.item<double>() == doctest::Approx(real.item<double>()).epsilon(1e-12));
}

TEST_CASE("TextDataset: a stride longer than the block never makes an all-padding window") {
  const auto tok = letters();
  // "abcdefghij": 9 (input, next) pairs. Block 2, stride 5: windows start at 0 and 5;
  // a third one would start at 10, past the last pair, with nothing but padding.
  const data::text::TextDataset ds("abcdefghij", tok, 2, {.stride = 5, .pad_id = 0});
  REQUIRE(ds.size() == 2);
  for (size_t i = 0; i < ds.size(); ++i) {
    const std::vector<int64_t> t = values(ds.get(i).target);
    CHECK(std::count(t.begin(), t.end(), kIgnoreIndex) < static_cast<std::ptrdiff_t>(t.size()));
  }
  // A huge stride: one window, and no overflow in the count.
  const int64_t huge = std::numeric_limits<int64_t>::max() - 3;
  CHECK(data::text::TextDataset("abcdefghij", tok, 2, {.stride = huge, .pad_id = 0}).size() == 1);
}
