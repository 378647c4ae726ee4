#include <lucid/train/failpoint.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

namespace lucid::train {

void failpoint(const char* name) {
  static const std::string armed = [] {
    const char* v = std::getenv("LUCID_FAILPOINT");
    return std::string(v ? v : "");
  }();
  if (armed.empty() || armed != name) return;
  std::fprintf(stderr, "lucid: failpoint %s reached (pid %d)\n", name, static_cast<int>(::getpid()));
  std::fflush(stderr);
  for (;;) ::pause();  // until the test kills this process
}

}  // namespace lucid::train
