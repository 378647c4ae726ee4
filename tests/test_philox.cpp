// Philox4x32-10 known answers, and the Generator's offset contract (philox.h).
#include <doctest/doctest.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/philox.h>

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

using lucid::Generator;
using lucid::Philox4x32;

namespace {

template <class T>
std::pair<double, double> mean_std(const std::vector<T>& v) {
  double sum = 0, sq = 0;
  for (T x : v) sum += double(x);
  double mean = sum / double(v.size());
  for (T x : v) sq += (double(x) - mean) * (double(x) - mean);
  return {mean, std::sqrt(sq / double(v.size() - 1))};
}

}  // namespace

// Known-answer vectors from Random123's examples/kat_vectors (D. E. Shaw Research,
// Random123 1.14, the three "philox4x32 10" lines). Columns there: counter[4] key[2]
// -> output[4].
//   philox4x32 10 00000000 00000000 00000000 00000000 00000000 00000000 6627e8d5 e169c58d bc57ac4c 9b00dbd8
//   philox4x32 10 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff 408f276d 41c83b0e a20bc7c6 6d5451fd
//   philox4x32 10 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0 d16cfe09 94fdcceb 5001e420 24126ea1
TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors") {
  using C = Philox4x32::Counter;
  using K = Philox4x32::Key;
  CHECK(Philox4x32::block(C{0, 0, 0, 0}, K{0, 0}) ==
        C{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(Philox4x32::block(C{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                          K{0xffffffff, 0xffffffff}) ==
        C{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(Philox4x32::block(C{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                          K{0xa4093822, 0x299f31d0}) ==
        C{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("raw words follow the contract: word w is block(o + w/4, key(seed))[w % 4]") {
  const uint64_t seed = 0x0123456789abcdefull;
  Generator g(seed);
  g.set_state({seed, 0x1fffffffeull});  // crosses into the high counter word
  std::vector<uint32_t> w(12);
  g.fill_uint32(w.data(), 12);
  CHECK(g.offset() == 0x1fffffffeull + 3);
  for (uint64_t i = 0; i < 12; ++i) {
    uint64_t c = 0x1fffffffeull + i / 4;
    auto b = Philox4x32::block({uint32_t(c), uint32_t(c >> 32), 0, 0},
                               {uint32_t(seed), uint32_t(seed >> 32)});
    CHECK(w[i] == b[i % 4]);
  }
}

TEST_CASE("same seed gives the same sequence, another seed a different one") {
  Generator a(42), b(42), c(43);
  std::vector<float> x(100), y(100), z(100);
  a.fill_normal(x.data(), 100);
  b.fill_normal(y.data(), 100);
  c.fill_normal(z.data(), 100);
  CHECK(x == y);
  CHECK(x != z);
  a.manual_seed(42);
  std::vector<float> again(100);
  a.fill_normal(again.data(), 100);
  CHECK(again == x);
  CHECK(a.offset() == 25);  // 100 floats = 50 pairs = 100 words = 25 blocks
}

TEST_CASE("offset continuity: 8 then 8 equals 16; a partly used block is skipped") {
  Generator g(7);
  std::vector<float> whole(24), a(8), b(8);
  g.fill_uniform(whole.data(), 24);
  g.manual_seed(7);
  g.fill_uniform(a.data(), 8);
  g.fill_uniform(b.data(), 8);
  CHECK(std::equal(a.begin(), a.end(), whole.begin()));
  CHECK(std::equal(b.begin(), b.end(), whole.begin() + 8));

  // 10 words use blocks 0..2 (words 10, 11 are skipped); the next draw starts at block 3.
  g.manual_seed(7);
  std::vector<float> ten(10), six(6);
  g.fill_uniform(ten.data(), 10);
  CHECK(g.offset() == 3);
  g.fill_uniform(six.data(), 6);
  CHECK(g.offset() == 5);
  CHECK(std::equal(ten.begin(), ten.end(), whole.begin()));
  CHECK(std::equal(six.begin(), six.end(), whole.begin() + 12));
}

TEST_CASE("offsets advance by ceil(words / 4) for every fill") {
  Generator g(1);
  std::vector<double> d(5);
  std::vector<float> f(5);
  std::vector<int64_t> r(5);
  g.fill_uniform(d.data(), 5);  // 10 words
  CHECK(g.offset() == 3);
  g.fill_normal(f.data(), 5);  // 3 pairs, 6 words
  CHECK(g.offset() == 5);
  g.fill_normal(d.data(), 5);  // 3 pairs, 12 words
  CHECK(g.offset() == 8);
  g.fill_randint(r.data(), 5, 0, 10);  // 10 words
  CHECK(g.offset() == 11);
  g.fill_uniform(f.data(), 0);
  CHECK(g.offset() == 11);
}

TEST_CASE("an odd-length normal draw is the prefix of the even one") {
  Generator g(3);
  std::vector<float> odd(7), even(8);
  g.fill_normal(odd.data(), 7);
  g.manual_seed(3);
  g.fill_normal(even.data(), 8);
  CHECK(std::equal(odd.begin(), odd.end(), even.begin()));
}

TEST_CASE("uniform stays in [lo, hi) with mean (lo + hi) / 2") {
  Generator g(11);
  std::vector<float> f(100000);
  g.fill_uniform(f.data(), int64_t(f.size()));
  CHECK(*std::min_element(f.begin(), f.end()) >= 0.f);
  CHECK(*std::max_element(f.begin(), f.end()) < 1.f);
  auto [m, s] = mean_std(f);
  CHECK(m == doctest::Approx(0.5).epsilon(0.01));
  CHECK(s == doctest::Approx(std::sqrt(1.0 / 12)).epsilon(0.02));

  std::vector<double> d(100000);
  g.fill_uniform(d.data(), int64_t(d.size()), -3.0, 5.0);
  CHECK(*std::min_element(d.begin(), d.end()) >= -3.0);
  CHECK(*std::max_element(d.begin(), d.end()) < 5.0);
  CHECK(mean_std(d).first == doctest::Approx(1.0).epsilon(0.02));

  // A range so narrow that lo + (hi - lo) * u rounds to hi for u near 1.
  std::vector<float> narrow(10000);
  g.fill_uniform(narrow.data(), int64_t(narrow.size()), 1.f, std::nextafter(1.f, 2.f));
  for (float x : narrow) CHECK(x == 1.f);
}

TEST_CASE("normal has the requested mean and std") {
  Generator g(12);
  std::vector<float> f(100000);
  g.fill_normal(f.data(), int64_t(f.size()));
  auto [m, s] = mean_std(f);
  CHECK(std::abs(m) < 0.02);
  CHECK(s == doctest::Approx(1.0).epsilon(0.02));
  for (float x : f) REQUIRE(std::isfinite(x));

  std::vector<double> d(100001);
  g.fill_normal(d.data(), int64_t(d.size()), 2.0, 0.5);
  auto [md, sd] = mean_std(d);
  CHECK(md == doctest::Approx(2.0).epsilon(0.01));
  CHECK(sd == doctest::Approx(0.5).epsilon(0.02));
}

TEST_CASE("randint stays in [low, high) and hits every value") {
  Generator g(13);
  std::vector<int64_t> r(10000);
  g.fill_randint(r.data(), int64_t(r.size()), -3, 4);
  std::vector<int> count(7, 0);
  for (int64_t x : r) {
    REQUIRE(x >= -3);
    REQUIRE(x < 4);
    ++count[size_t(x + 3)];
  }
  for (int c : count) CHECK(c > 1200);  // expected ~1429 each
  // The widest range works too (high - low overflows int64 but not uint64).
  g.fill_randint(r.data(), 100, INT64_MIN, INT64_MAX);
  CHECK_THROWS_AS(g.fill_randint(r.data(), 1, 5, 5), lucid::Error);
}

TEST_CASE("saving and restoring the state reproduces the draws") {
  Generator g(99);
  std::vector<float> skip(5), a(33), b(33);
  g.fill_normal(skip.data(), 5);
  auto saved = g.get_state();
  g.fill_normal(a.data(), 33);
  g.set_state(saved);
  g.fill_normal(b.data(), 33);
  CHECK(a == b);
  CHECK(saved.seed == 99);
  CHECK(saved.offset == 2);
}

TEST_CASE("manual_seed resets the default generator") {
  lucid::manual_seed(5);
  CHECK(lucid::default_generator().seed() == 5);
  CHECK(lucid::default_generator().offset() == 0);
  std::vector<float> a(10), b(10);
  lucid::default_generator().fill_uniform(a.data(), 10);
  lucid::manual_seed(5);
  lucid::default_generator().fill_uniform(b.data(), 10);
  CHECK(a == b);
  CHECK(lucid::kDefaultSeed == 67280421310721ull);
}

TEST_CASE("threads drawing from the default generator get disjoint blocks") {
  lucid::manual_seed(2024);
  constexpr int kDraws = 2000;
  std::vector<float> out[2];
  auto work = [&](int t) {
    std::vector<float> buf(4);
    for (int i = 0; i < kDraws; ++i) {
      lucid::default_generator().fill_uniform(buf.data(), 4);  // one block each
      out[t].insert(out[t].end(), buf.begin(), buf.end());
    }
  };
  std::thread t0(work, 0), t1(work, 1);
  t0.join();
  t1.join();
  CHECK(lucid::default_generator().offset() == 2 * kDraws);

  // Together the threads drew exactly blocks 0 .. 2*kDraws-1, each block once.
  std::vector<float> all = out[0];
  all.insert(all.end(), out[1].begin(), out[1].end());
  std::vector<float> serial(all.size());
  Generator g(2024);
  g.fill_uniform(serial.data(), int64_t(serial.size()));
  std::sort(all.begin(), all.end());
  std::sort(serial.begin(), serial.end());
  CHECK(all == serial);

  // reserve() hands out non-overlapping ranges.
  std::vector<uint64_t> starts[2];
  auto reserve = [&](int t) {
    for (int i = 0; i < kDraws; ++i) starts[t].push_back(lucid::default_generator().reserve(3).offset);
  };
  uint64_t base = lucid::default_generator().offset();
  std::thread r0(reserve, 0), r1(reserve, 1);
  r0.join();
  r1.join();
  std::vector<uint64_t> s = starts[0];
  s.insert(s.end(), starts[1].begin(), starts[1].end());
  std::sort(s.begin(), s.end());
  for (size_t i = 0; i < s.size(); ++i) CHECK(s[i] == base + 3 * i);
}
