// Image transforms: each step's semantics, the pipeline rules (ToTensor last,
// eval() without random steps), per-sample determinism, and bilinear Resize
// against PyTorch.
//
// Resize goldens come from /usr/bin/python3 (torch 1.13):
//   import torch, torch.nn.functional as F
//   def img(h, w, c):  # HWC, value ((y * w + x) * c + ch) * 37 % 256
//       return torch.tensor([[[((y*w+x)*c+ch)*37 % 256 for ch in range(c)] for x in range(w)]
//                            for y in range(h)], dtype=torch.float32)
//   for h, w, c, oh, ow in [(4, 5, 1, 7, 9), (6, 8, 2, 3, 5)]:
//       y = F.interpolate(img(h, w, c).permute(2, 0, 1)[None], size=(oh, ow), mode='bilinear',
//                         align_corners=False)[0].permute(1, 2, 0)
//       print(torch.round(y).to(torch.int64).flatten().tolist())
// Three values of the first case lie within 1e-5 of a .5 tie (149.49998, 41.49999, ...):
// they agree only because lucid's kernel fuses multiply-adds as PyTorch's AVX2 kernel does.
#include <doctest/doctest.h>

#include <set>
#include <vector>

#include <lucid/lucid.h>

using namespace lucid;
using namespace lucid::data;

namespace {

Image pattern(int64_t h, int64_t w, int64_t c) {
  Image im(h, w, c);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t ch = 0; ch < c; ++ch) im.at(y, x, ch) = uint8_t(((y * w + x) * c + ch) * 37 % 256);
  return im;
}

std::vector<int> ints(const Image& im) { return std::vector<int>(im.pixels.begin(), im.pixels.end()); }

bool same(const Image& a, const Image& b) {
  return a.height == b.height && a.width == b.width && a.channels == b.channels &&
         a.pixels == b.pixels;
}

Image apply(const ImageTransform& t, const Image& im, uint64_t index) {
  SampleScope scope(/*loader_seed=*/7, /*epoch=*/0, index);
  return t.apply_image(im);
}

}  // namespace

TEST_CASE("ToTensor turns uint8 HWC into float32 CHW divided by 255") {
  Image im = pattern(2, 3, 3);
  Tensor t = to_tensor(im);
  CHECK(t.dtype() == kFloat32);
  CHECK(t.sizes() == Shape{3, 2, 3});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 2; ++y)
      for (int64_t x = 0; x < 3; ++x)
        CHECK(t[c][y][x].item<float>() == float(im.at(y, x, c)) / 255.0f);
  Image broken = pattern(2, 3, 3);
  broken.pixels.pop_back();
  CHECK_THROWS_WITH_AS(to_tensor(broken), doctest::Contains("ToTensor: bad image 2x3x3 with 17 bytes"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(hflip(broken), doctest::Contains("hflip: bad image"), lucid::Error);
  Image white(1, 1, 1, 255);
  CHECK(to_tensor(white).item<float>() == 1.0f);
}

TEST_CASE("Normalize subtracts the channel mean and divides by the channel std") {
  Tensor t = to_tensor(pattern(2, 2, 3));
  Normalize n({0.1, 0.2, 0.3}, {0.5, 2.0, 4.0});
  Tensor out = n.apply_tensor(t);
  for (int64_t c = 0; c < 3; ++c) {
    const double m[] = {0.1, 0.2, 0.3}, s[] = {0.5, 2.0, 4.0};
    CHECK(out[c][1][0].item<double>() ==
          doctest::Approx((t[c][1][0].item<double>() - m[c]) / s[c]).epsilon(1e-6));
  }
  CHECK_THROWS_WITH_AS(Normalize({0.5, 0.5}, {0.5}), doctest::Contains("mean has 2 values and std has 1"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(Normalize({0.5}, {0.0}), doctest::Contains("std[0] = 0 must be positive"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(Normalize({0.5, 0.5}, {1, 1}).apply_tensor(t),
                       doctest::Contains("Normalize: tensor of shape [3, 2, 2] has 3 channels but "
                                         "mean/std have 2 values"),
                       lucid::Error);
}

TEST_CASE("hflip mirrors columns; RandomHorizontalFlip(1) always and (0) never flips") {
  Image im = pattern(2, 3, 2);
  Image f = hflip(im);
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 3; ++x)
      for (int64_t c = 0; c < 2; ++c) CHECK(f.at(y, x, c) == im.at(y, 2 - x, c));
  for (uint64_t i = 0; i < 5; ++i) {
    CHECK(same(apply(RandomHorizontalFlip(1.0), im, i), f));
    CHECK(same(apply(RandomHorizontalFlip(0.0), im, i), im));
  }
  // p = 0.5 flips some samples and not others.
  int flipped = 0;
  for (uint64_t i = 0; i < 64; ++i) flipped += same(apply(RandomHorizontalFlip(0.5), im, i), f);
  CHECK(flipped > 16);
  CHECK(flipped < 48);
}

TEST_CASE("RandomCrop takes a window of the zero-padded image") {
  Image im = pattern(5, 6, 3);
  RandomCrop rc({4, 4}, /*padding=*/2);
  Image padded = pad(im, 2, 2, 2, 2);
  CHECK(padded.height == 9);
  CHECK(padded.at(0, 0, 0) == 0);
  CHECK(padded.at(2, 2, 1) == im.at(0, 0, 1));
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (uint64_t i = 0; i < 40; ++i) {
    Image out = apply(rc, im, i);
    CHECK(out.height == 4);
    CHECK(out.width == 4);
    bool found = false;
    for (int64_t top = 0; top <= 5 && !found; ++top)
      for (int64_t left = 0; left <= 6 && !found; ++left)
        if (same(crop(padded, top, left, {4, 4}), out)) {
          found = true;
          offsets.insert({top, left});
        }
    CHECK(found);
  }
  CHECK(offsets.size() > 5);  // the window moves from sample to sample
  CHECK_THROWS_WITH_AS(apply(RandomCrop({8, 8}), im, 0),
                       doctest::Contains("RandomCrop: crop 8x8 is larger than the (padded) image 5x6"),
                       lucid::Error);
}

TEST_CASE("CenterCrop takes the middle (torchvision rounding) and zero-pads when too small") {
  Image im = pattern(5, 6, 1);
  Image c = center_crop(im, {3, 2});
  // top = round((5 - 3) / 2) = 1, left = round((6 - 2) / 2) = 2
  CHECK(same(c, crop(im, 1, 2, {3, 2})));
  // (6 - 3) / 2 = 1.5 rounds to 2 (ties to even, as Python's round)
  CHECK(same(center_crop(im, {5, 3}), crop(im, 0, 2, {5, 3})));
  Image big = center_crop(im, {7, 6});
  CHECK(big.height == 7);
  CHECK(big.at(0, 0, 0) == 0);
  CHECK(big.at(1, 0, 0) == im.at(0, 0, 0));
  CHECK(big.at(6, 5, 0) == 0);
}

TEST_CASE("Resize matches F.interpolate(bilinear, align_corners=False), rounded") {
  const std::vector<int> up{0,   12,  33,  53,  74,  95,  115, 136, 148, 66,  78,  99,  79,
                            49,  69,  90,  110, 123, 172, 184, 205, 120, 8,   29,  49,  70,
                            82,  149, 162, 182, 146, 96,  116, 122, 72,  41,  109, 121, 142,
                            162, 183, 203, 198, 86,  19,  68,  81,  101, 122, 142, 163, 173,
                            143, 125, 43,  55,  76,  96,  117, 138, 158, 179, 191};
  CHECK(ints(resize(pattern(4, 5, 1), {7, 9})) == up);
  const std::vector<int> down{62,  99,  181, 102, 107, 80,  149, 186, 62,  99,
                              184, 93,  97,  122, 139, 176, 65,  102, 184, 131,
                              126, 163, 129, 166, 107, 144, 97,  122, 126, 125};
  CHECK(ints(resize(pattern(6, 8, 2), {3, 5})) == down);
  // Same size is the identity; Resize(int) scales the smaller edge, keeping aspect.
  Image im = pattern(4, 8, 3);
  CHECK(same(resize(im, {4, 8}), im));
  Image r = Resize(2).apply_image(im);
  CHECK(r.height == 2);
  CHECK(r.width == 4);
  Image tall = Resize(3).apply_image(pattern(10, 4, 1));
  CHECK(tall.height == 7);  // int(3 * 10 / 4)
  CHECK(tall.width == 3);
}

TEST_CASE("RandomResizedCrop gives the asked size; full scale and ratio 1 is a plain resize") {
  Image im = pattern(12, 12, 3);
  RandomResizedCrop whole({5, 5}, {1.0, 1.0}, {1.0, 1.0});
  CHECK(same(apply(whole, im, 3), resize(im, {5, 5})));
  RandomResizedCrop rrc({6, 4});
  std::set<std::vector<uint8_t>> outs;
  for (uint64_t i = 0; i < 20; ++i) {
    Image out = apply(rrc, im, i);
    CHECK(out.height == 6);
    CHECK(out.width == 4);
    CHECK(out.channels == 3);
    outs.insert(out.pixels);
  }
  CHECK(outs.size() > 10);
}

TEST_CASE("adjust_brightness scales, adjust_contrast blends with the mean gray, alpha kept") {
  Image im(1, 2, 4);
  im.pixels = {100, 200, 50, 7, 30, 250, 10, 9};
  Image b = adjust_brightness(im, 0.5);
  CHECK(ints(b) == std::vector<int>{50, 100, 25, 7, 15, 125, 5, 9});
  CHECK(ints(adjust_brightness(im, 2.0)) == std::vector<int>{200, 255, 100, 7, 60, 255, 20, 9});
  // Contrast 0: every color value becomes the mean gray level
  // ((0.2989*100 + 0.587*200 + 0.114*50) + (0.2989*30 + 0.587*250 + 0.114*10)) / 2 = 154.92 -> 155.
  CHECK(ints(adjust_contrast(im, 0.0)) == std::vector<int>{155, 155, 155, 7, 155, 155, 155, 9});
  CHECK(same(adjust_contrast(im, 1.0), im));
  ColorJitter cj(0.4, 0.4);
  Image a1 = apply(cj, pattern(4, 4, 3), 1), a2 = apply(cj, pattern(4, 4, 3), 2);
  CHECK_FALSE(same(a1, a2));
}

TEST_CASE("random steps draw from the sample's generator: same scope, same result") {
  Compose aug(RandomResizedCrop({8, 8}), RandomHorizontalFlip(), ColorJitter(0.3, 0.3),
              RandomCrop({6, 6}, 1));
  Image im = pattern(16, 16, 3);
  Sample first, again, other;
  {
    SampleScope s(42, 3, 17);
    first = aug.apply(im);
  }
  {
    default_generator().manual_seed(1);  // the global generator is not involved
    SampleScope s(42, 3, 17);
    again = aug.apply(im);
  }
  {
    SampleScope s(42, 3, 18);
    other = aug.apply(im);
  }
  CHECK(same(std::get<Image>(first), std::get<Image>(again)));
  CHECK_FALSE(same(std::get<Image>(first), std::get<Image>(other)));
  {
    SampleScope s(42, 4, 17);  // next epoch, same index: a new augmentation
    CHECK_FALSE(same(std::get<Image>(first), std::get<Image>(aug.apply(im))));
  }
}

TEST_CASE("Compose checks the order: image steps, then ToTensor, then tensor steps") {
  CHECK_THROWS_WITH_AS(Compose(ToTensor(), RandomHorizontalFlip()),
                       doctest::Contains("Compose: step 1 (RandomHorizontalFlip) expects an Image "
                                         "but step 0 (ToTensor) gives a Tensor"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(Compose(Normalize({0.5}, {0.5}), ToTensor()),
                       doctest::Contains("step 1 (ToTensor) expects an Image"), lucid::Error);
  Compose images_only{RandomHorizontalFlip()};
  CHECK_THROWS_WITH_AS(images_only(pattern(2, 2, 1)),
                       doctest::Contains("called with an Image to give a Tensor"), lucid::Error);
  CHECK_THROWS_WITH_AS(Normalize({0.5}, {0.5}).apply(pattern(2, 2, 1)),
                       doctest::Contains("Normalize: expects a Tensor, got an Image"), lucid::Error);
}

TEST_CASE("eval() drops the random steps and shares Normalize with the train chain") {
  auto norm = std::make_shared<Normalize>(std::vector<double>{0.5, 0.4, 0.3},
                                          std::vector<double>{0.2, 0.2, 0.2});
  Compose train(RandomCrop({8, 8}, 2), RandomHorizontalFlip(), CenterCrop({6, 6}),
                Compose(ColorJitter(0.2), ToTensor()), TransformPtr(norm));
  Compose eval = train.eval();
  CHECK(train.randomness() == Randomness::Random);
  CHECK(eval.randomness() == Randomness::Deterministic);
  CHECK(eval.name() == "Compose(CenterCrop, CenterCrop, Compose(ToTensor), Normalize)");  // RandomCrop -> CenterCrop
  CHECK(eval.steps().back().get() == norm.get());
  Image im = pattern(8, 8, 3);
  Tensor want = norm->apply_tensor(to_tensor(center_crop(im, {6, 6})));
  CHECK(eval(im).sub(want).abs().max().item<double>() == 0.0);
  CHECK_THROWS_WITH_AS(Compose(RandomHorizontalFlip()).eval(),
                       doctest::Contains("every step is random"), lucid::Error);
}

TEST_CASE("eval() puts a center crop in place of a random crop, so variable-size images give one size") {
  // Dropping the random crops left eval pipelines passing each image's own size through.
  Compose crop_train(RandomCrop({4, 6}, 1), ToTensor());
  Compose crop_eval = crop_train.eval();
  CHECK(crop_eval.name() == "Compose(CenterCrop, ToTensor)");
  Compose rrc_train(RandomResizedCrop({4, 4}), RandomHorizontalFlip(), ToTensor());
  Compose rrc_eval = rrc_train.eval();
  CHECK(rrc_eval.name() == "Compose(Resize, CenterCrop, ToTensor)");  // torchvision's eval recipe
  for (auto [h, w] : std::vector<std::pair<int64_t, int64_t>>{{4, 6}, {9, 7}, {5, 12}, {20, 20}}) {
    CAPTURE(h);
    CAPTURE(w);
    const Image im = pattern(h, w, 3);
    CHECK(crop_eval(im).sizes() == Shape{3, 4, 6});
    CHECK(rrc_eval(im).sizes() == Shape{3, 4, 4});
    CHECK(rrc_eval(im).sub(to_tensor(center_crop(Resize(4).apply_image(im), {4, 4}))).abs().max().item<double>() ==
          0.0);
  }
  // At the crop's own size the center crop is the identity (RandomCrop(32, padding 4) on CIFAR).
  const Image same = pattern(4, 6, 3);
  CHECK(crop_eval(same).sub(to_tensor(same)).abs().max().item<double>() == 0.0);
  // A non-square RandomResizedCrop: the smaller edge goes to the larger side, then the crop fits.
  CHECK(Compose(RandomResizedCrop({3, 5}), ToTensor()).eval()(pattern(10, 30, 1)).sizes() == Shape{1, 3, 5});
}

TEST_CASE("Lambda wraps a function on Images or Tensors") {
  Lambda invert("invert", [](Image im) {
    for (auto& p : im.pixels) p = uint8_t(255 - p);
    return im;
  });
  Lambda twice("twice", [](Tensor t) { return t * 2.0; });
  Compose chain(invert, ToTensor(), twice);
  Tensor out = chain(Image(1, 1, 1, 55));
  CHECK(out.item<float>() == doctest::Approx(2.0 * 200.0 / 255.0));
  CHECK(chain.randomness() == Randomness::Deterministic);
  Lambda noise("noise", [](Tensor t) { return t; }, Randomness::Random);
  CHECK(Compose(ToTensor(), noise).eval().name() == "Compose(ToTensor)");
}

TEST_CASE("absurd sizes and paddings are errors, not huge allocations") {
  const Image small = pattern(1, 1, 3);
  const int64_t huge = int64_t(1) << 40;
  CHECK_THROWS_WITH_AS(RandomCrop({1, 1}, huge).apply_image(small), doctest::Contains("pad"), lucid::Error);
  CHECK_THROWS_WITH_AS(resize(small, {huge, huge}), doctest::Contains("Resize"), lucid::Error);
  CHECK_THROWS_WITH_AS(Resize{huge}, doctest::Contains("Resize"), lucid::Error);
  CHECK_THROWS_WITH_AS(Resize(int64_t(1) << 20).apply_image(pattern(1, 4096, 3)), doctest::Contains("Resize"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(Image(huge, huge, 3), doctest::Contains("not a valid image"), lucid::Error);
  // Extreme aspect ratios stay defined (the side lengths are clamped before conversion).
  const Image out = apply(RandomResizedCrop({4, 4}, {0.5, 1.0}, {1e-300, 1e300}), pattern(8, 8, 3), 0);
  CHECK(out.height == 4);
  CHECK(out.width == 4);
}
