#include <lucid/data/dataset.h>

namespace lucid::data {

namespace {
thread_local Generator* current_sample_generator = nullptr;

// SplitMix64's finalizer: a bijective mix of 64 bits.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

uint64_t sample_seed(uint64_t loader_seed, uint64_t epoch, uint64_t index) {
  const uint64_t golden = 0x9e3779b97f4a7c15ull;
  uint64_t h = mix64(loader_seed + golden);
  h = mix64(h ^ (epoch + golden));
  return mix64(h ^ (index + golden));
}

Generator& sample_generator() {
  return current_sample_generator ? *current_sample_generator : default_generator();
}

SampleScope::SampleScope(uint64_t loader_seed, uint64_t epoch, uint64_t index)
    : generator_(sample_seed(loader_seed, epoch, index)), previous_(current_sample_generator) {
  current_sample_generator = &generator_;
}

SampleScope::~SampleScope() { current_sample_generator = previous_; }

}  // namespace lucid::data
