// lucid::Error and the one check macro every op uses to report bad input.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace lucid {

// Every error lucid raises on bad input. The message names the op (or file) and
// the offending shapes, dtypes or bytes, e.g.
//   "matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)".
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace lucid

// LUCID_CHECK(cond, parts...): throw lucid::Error(parts...) unless cond holds.
// The parts are streamed together, so shapes print through operator<<.
#define LUCID_CHECK(cond, ...)                                        \
  do {                                                                \
    if (!(cond)) throw ::lucid::Error(::lucid::detail::str_cat(__VA_ARGS__)); \
  } while (0)
