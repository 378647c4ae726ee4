// The byte-level BPE tokenizer: pre-splitting, merges derived by hand,
// training on a real fortune(6) corpus (vocab size, determinism, compression,
// round trips on held-out text and random bytes), special tokens, JSON
// save/load, and the errors for malformed files.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <lucid/lucid.h>

#include "temp_dir.h"

using namespace lucid::data::text;
using Merge = BpeTokenizer::Merge;
namespace fs = std::filesystem;

namespace {

const std::string kFortunes = "/usr/share/games/fortunes";

// A fresh scratch directory per process, removed at exit.
const lucid::testing::TempDir& scratch() {
  static const lucid::testing::TempDir dir;
  return dir;
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Training text: every fortune file but "wisdom", which is held out.
const std::string& train_text() {
  static const std::string text = [] {
    std::vector<std::string> files;
    for (const auto& f : fortune_files(kFortunes))
      if (fs::path(f).filename() != "wisdom") files.push_back(f);
    return read_fortunes(files);
  }();
  return text;
}
const std::string& held_out_text() {
  static const std::string text = read_fortunes({kFortunes + "/wisdom"});
  return text;
}
// Trained once and shared by the test cases below.
const BpeTokenizer& fortune_bpe() {
  static const BpeTokenizer bpe = BpeTokenizer::train(train_text(), 512);
  return bpe;
}

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

// The message of the lucid::Error that `f` throws ("" if none), for checks
// on several parts of one message.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const lucid::Error& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& message, const std::string& part) { return message.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("pre_split: words take one leading space, punctuation and whitespace are their own chunks") {
  using V = std::vector<std::string_view>;
  CHECK(pre_split("Hello, world!!") == V{"Hello", ",", " world", "!!"});
  CHECK(pre_split("a \n  b") == V{"a", " \n ", " b"});
  CHECK(pre_split("in 1984 (or so)") == V{"in", " 1984", " (", "or", " so", ")"});
  CHECK(pre_split("caf\xc3\xa9 ol\xc3\xa9") == V{"caf\xc3\xa9", " ol\xc3\xa9"});  // UTF-8 stays in its word
  CHECK(pre_split("  x") == V{" ", " x"});
  CHECK(pre_split("") == V{});
  // A run longer than kMaxChunkBytes is cut into pieces.
  const std::string dashes(150, '-');
  const auto pieces = pre_split(dashes);
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[0].size() == kMaxChunkBytes);
  CHECK(pieces[2].size() == 150 - 2 * kMaxChunkBytes);
}

TEST_CASE("pre_split: the chunks concatenate back to any byte string") {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const std::string s = random_bytes(500, seed);
    std::string joined;
    for (const auto chunk : pre_split(s)) joined += chunk;
    CHECK(joined == s);
  }
}

// Derived by hand. "ab ab ab abc" splits into "ab" x1, " ab" x2, " abc" x1.
//   pair counts: (a,b) 1+2+1 = 4, (' ',a) 3, (b,c) 1  -> merge 0: (97, 98) = 256 "ab"
//   chunks now [256] x1, [32,256] x2, [32,256,99] x1:
//   (32,256) 3, (256,99) 1                            -> merge 1: (32, 256) = 257 " ab"
//   chunks [256], [257] x2, [257,99]: (257,99) 1      -> merge 2: (257, 99) = 258 " abc"
//   then no pair is left, so training stops at vocab 259 although 300 was asked.
TEST_CASE("BPE merges of a small hand-worked example") {
  const auto bpe = BpeTokenizer::train("ab ab ab abc", 300);
  CHECK(bpe.merges() == std::vector<Merge>{{97, 98}, {32, 256}, {257, 99}});
  CHECK(bpe.vocab_size() == 259);
  CHECK(bpe.token_bytes(258) == " abc");
  // "ab abc": "ab" -> [256]; " abc" = [32,97,98,99] -(rank 0)-> [32,256,99]
  //   -(rank 1)-> [257,99] -(rank 2)-> [258].
  CHECK(bpe.encode("ab abc") == std::vector<int64_t>{256, 258});
  // "aab": (97,97) has no rank; (97,98) has rank 0 -> [97, 256].
  CHECK(bpe.encode("aab") == std::vector<int64_t>{97, 256});
  // " abx": [32,97,98,120] -> [32,256,120] -> [257,120]; (257,120) has no rank.
  CHECK(bpe.encode(" abx") == std::vector<int64_t>{257, 120});
}

// Ties go to the smallest (left, right) pair. "ba ab" splits into "ba", " ab":
//   (98,97) 1, (32,97) 1, (97,98) 1: all tie -> (32, 97) = 256 " a"
//   chunks [98,97], [256,98]: (98,97) 1, (256,98) 1 -> (98, 97) = 257 "ba"
//   then (256, 98) = 258 " ab".
TEST_CASE("BPE breaks count ties by the smallest pair") {
  const auto bpe = BpeTokenizer::train("ba ab", 259);
  CHECK(bpe.merges() == std::vector<Merge>{{32, 97}, {98, 97}, {256, 98}});
}

TEST_CASE("BPE trained on fortunes reaches the vocab size and compresses held-out text") {
  const auto& bpe = fortune_bpe();
  CHECK(bpe.vocab_size() == 512);
  CHECK(bpe.merges().size() == 256);
  // The first merges are the commonest English pairs.
  CHECK(bpe.token_bytes(256) == " t");
  CHECK(bpe.token_bytes(257) == "he");

  // Raw bytes give 1 token per byte; 256 merges give about half of that
  // (measured: 0.52 on the training text, 0.49 on held-out "wisdom").
  const double train_ratio = double(bpe.encode(train_text()).size()) / double(train_text().size());
  const double held_ratio = double(bpe.encode(held_out_text()).size()) / double(held_out_text().size());
  INFO("tokens per byte: train " << train_ratio << ", held-out " << held_ratio);
  CHECK(train_ratio < 0.55);
  CHECK(held_ratio < 0.55);
}

TEST_CASE("BPE training is deterministic: twice on the same text gives the same file") {
  const auto again = BpeTokenizer::train(train_text(), 512);
  fortune_bpe().save(scratch() / "a.json");
  again.save(scratch() / "b.json");
  CHECK(read_text_file(scratch() / "a.json") == read_text_file(scratch() / "b.json"));
}

TEST_CASE("BPE decode(encode(s)) == s for held-out text and random bytes, invalid UTF-8 included") {
  const auto& bpe = fortune_bpe();
  CHECK(bpe.decode(bpe.encode(held_out_text())) == held_out_text());
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const std::string s = random_bytes(1 + seed * 97, seed);
    CHECK(bpe.decode(bpe.encode(s)) == s);
  }
  const std::string invalid = "\xff\xfe caf\xc3 \x80\x80 \xed\xa0\x80 end";
  CHECK(bpe.decode(bpe.encode(invalid)) == invalid);
  CHECK(bpe.encode("").empty());
}

TEST_CASE("BPE save/load round trip gives identical encodings") {
  const auto& bpe = fortune_bpe();
  const std::string path = scratch() / "bpe.json";
  bpe.save(path);
  CHECK_FALSE(fs::exists(path + ".tmp"));
  const auto loaded = BpeTokenizer::load(path);
  CHECK(loaded.merges() == bpe.merges());
  CHECK(loaded.encode(held_out_text()) == bpe.encode(held_out_text()));
  const auto any = load_tokenizer(path);  // picks BpeTokenizer from "type"
  CHECK(any->vocab_size() == 512);
  CHECK(any->encode(held_out_text()) == bpe.encode(held_out_text()));
}

TEST_CASE("BPE special tokens: cut out of training, encoded as one id, kept through save/load") {
  const std::vector<std::string> files = {kFortunes + "/fortunes", kFortunes + "/literature"};
  const std::string text = read_fortunes(files, "<|endoftext|>");
  const auto bpe = BpeTokenizer::train(text, 400, {"<|endoftext|>"});
  CHECK(bpe.vocab_size() == 400);
  const int64_t eot = bpe.special_token_id("<|endoftext|>");
  CHECK(eot == 399);
  for (int64_t id = 256; id < eot; ++id) CHECK(bpe.token_bytes(id).find("|>") == std::string::npos);

  const auto ids = bpe.encode(text);
  size_t separators = 0;
  for (size_t at = text.find("<|endoftext|>"); at != std::string::npos; at = text.find("<|endoftext|>", at + 1))
    ++separators;
  CHECK(std::count(ids.begin(), ids.end(), eot) == static_cast<long>(separators));
  CHECK(bpe.decode(ids) == text);
  CHECK(bpe.encode("hi<|endoftext|><|endoftext|>").back() == eot);

  const std::string path = scratch() / "special.json";
  bpe.save(path);
  CHECK(BpeTokenizer::load(path).encode(text) == ids);
  CHECK_THROWS_WITH_AS(bpe.special_token_id("<pad>"), doctest::Contains("\"<pad>\" is not a special token"),
                       lucid::Error);
}

TEST_CASE("BPE rejects bad arguments, ids and merges") {
  CHECK_THROWS_WITH_AS(BpeTokenizer::train("abc", 100), doctest::Contains("vocab_size 100 is below 256"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(BpeTokenizer({{97, 98}, {256, 300}}),
                       doctest::Contains("merge 1 (256, 300) references a token that does not exist yet"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(BpeTokenizer({{97, 98}, {97, 98}}), doctest::Contains("merge 1 (97, 98) repeats"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(BpeTokenizer({}, {"<a>", "<a>"}), doctest::Contains("\"<a>\" is given twice"), lucid::Error);
  const BpeTokenizer bytes_only({});
  CHECK(bytes_only.vocab_size() == 256);
  CHECK_THROWS_WITH_AS(bytes_only.decode({65, 256}),
                       doctest::Contains("id 256 at position 1 is out of range for vocab_size 256"), lucid::Error);
}

TEST_CASE("BPE load: malformed files give an error naming the file") {
  // Each file gets its content, then loading it must fail with all `parts`.
  const auto check_load_fails = [](const std::string& name, const std::string& content,
                                   std::vector<std::string> parts) {
    const std::string path = scratch() / name;
    write(path, content);
    const std::string message = error_of([&] { load_tokenizer(path); });
    INFO("message: " << message);
    CHECK(has(message, path + ": "));
    for (const auto& part : parts) CHECK(has(message, part));
  };
  const std::string good = scratch() / "good.json";
  BpeTokenizer({{97, 98}, {256, 99}}).save(good);
  const std::string text = read_text_file(good);
  check_load_fails("truncated.json", text.substr(0, text.size() / 2), {": byte ", "unexpected end of file"});

  const std::string wrong_type = scratch() / "wrong_type.json";
  CharTokenizer::train("abc").save(wrong_type);
  CHECK(has(error_of([&] { BpeTokenizer::load(wrong_type); }),
            wrong_type + ": byte 12: \"type\" is \"char\", expected \"bpe\""));

  check_load_fails("type_int.json", R"({"type": 7, "merges": []})",
                   {": byte 9: \"type\" must be a string, not an integer"});
  const std::string head = R"({"type": "bpe", "pre_split": "lucid-simple-v1", "special_tokens": [], )";
  check_load_fails("unknown_id.json", head + R"("merges": [[97, 98], [256, 999]]})",
                   {"merges[1] references token 999, which does not exist yet (ids 0..256)"});
  check_load_fails("negative_id.json", head + R"("merges": [[-1, 98]]})", {"merges[0] references token -1"});
  check_load_fails("not_pair.json", head + R"("merges": [[97]]})", {"merges[0] must be a pair"});
  check_load_fails("not_int.json", head + R"("merges": [[97, "b"]]})", {"merges[0] must be an integer, not a string"});
  check_load_fails("repeated.json", head + R"("merges": [[97, 98], [97, 98]]})", {"merge 1 (97, 98) repeats"});
  check_load_fails("other_rule.json", R"({"type": "bpe", "pre_split": "gpt2", "special_tokens": [], "merges": []})",
                   {"\"pre_split\" is \"gpt2\""});
  check_load_fails("missing.json", R"({"type": "bpe", "pre_split": "lucid-simple-v1", "special_tokens": []})",
                   {": byte 0: missing key \"merges\""});
  check_load_fails("unknown_kind.json", R"({"type": "wordpiece"})", {"unknown tokenizer \"type\" \"wordpiece\""});
  check_load_fails("not_object.json", R"([1, 2])", {"byte 0: the document must be an object, not an array"});

  const std::string absent = scratch() / "absent.json";
  CHECK(has(error_of([&] { load_tokenizer(absent); }), absent + ": cannot open"));
}
