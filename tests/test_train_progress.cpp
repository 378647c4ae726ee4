// Progress: the plain lines it prints off a terminal (the window's mean loss,
// the epoch's mean at the end), the bar it draws on one, durations, and that
// keeping the running loss records nothing on the autograd tape.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include <lucid/lucid.h>
#include <lucid/train/progress.h>

using namespace lucid;

namespace {
std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}
}  // namespace

TEST_CASE("off a terminal: a line every log_every steps with the window's mean loss; the epoch's mean at the end") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  train::Progress p(f, {.epochs = 2, .steps_per_epoch = 5, .log_every = 2});
  CHECK_FALSE(p.is_terminal());
  p.start_epoch(1);
  const double losses[] = {1.0, 3.0, 0.5, 1.5, 4.0};
  for (double l : losses) p.step(scalar_tensor(l), 32, 1e-3);
  const double mean = p.end_epoch();
  CHECK(mean == doctest::Approx(2.0));
  const std::string out = contents(f);
  INFO(out);
  CHECK(out.find("epoch 2/2 step 2/5 (global 7)  loss 2.0000  lr 1.00e-03") != std::string::npos);
  CHECK(out.find("epoch 2/2 step 4/5 (global 9)  loss 1.0000") != std::string::npos);
  CHECK(out.find("epoch 2/2 step 5/5 (global 10)  loss 4.0000") != std::string::npos);  // the last step always prints
  CHECK(out.find("step 3/5") == std::string::npos);
  std::fclose(f);
}

TEST_CASE("a resumed epoch counts from where it stopped") {
  std::FILE* f = std::tmpfile();
  train::Progress p(f, {.epochs = 3, .steps_per_epoch = 10, .log_every = 1});
  p.start_epoch(0, 7);
  p.step(scalar_tensor(1.0), 8, 0.1);
  p.end_epoch();
  CHECK(contents(f).find("epoch 1/3 step 8/10 (global 8)") != std::string::npos);
  std::fclose(f);
}

TEST_CASE("on a terminal: one line redrawn in place") {
  std::FILE* f = std::tmpfile();
  train::Progress p(f, {.epochs = 1, .steps_per_epoch = 4, .refresh_seconds = 0, .style = train::ProgressStyle::Bar});
  CHECK(p.is_terminal());
  p.start_epoch(0);
  for (int i = 0; i < 4; ++i) p.step(scalar_tensor(0.25), 1, 1e-2);
  p.end_epoch();
  p.line("done");
  const std::string out = contents(f);
  INFO(out);
  CHECK(out.find("\r\033[Kepoch 1/1 [######..................] 1/4") != std::string::npos);
  CHECK(out.find("[########################] 4/4  loss 0.2500") != std::string::npos);
  CHECK(out.find("\r\033[Kdone\n") != std::string::npos);
  std::fclose(f);
}

TEST_CASE("the running loss is bookkeeping: nothing is recorded on the tape") {
  autograd::clear_tape();
  Tensor w = ones({3}, requires_grad());
  Tensor loss = (w * 2.0).sum();
  const size_t before = autograd::tape_size();
  std::FILE* f = std::tmpfile();
  train::Progress p(f, {.epochs = 1, .steps_per_epoch = 100, .log_every = 50});
  p.step(loss, 1, 0.1);
  CHECK(autograd::tape_size() == before);
  std::fclose(f);
  autograd::clear_tape();
}

TEST_CASE("durations print as [h:]mm:ss") {
  CHECK(train::format_duration(0) == "0:00");
  CHECK(train::format_duration(59.6) == "1:00");
  CHECK(train::format_duration(3725) == "1:02:05");
  CHECK(train::format_duration(-1) == "?");
  CHECK(train::format_duration(NAN) == "?");
}
