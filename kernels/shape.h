// Shapes and strides: the small helpers every op uses to check and broadcast.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace lucid {

using Shape = std::vector<int64_t>;    // sizes, outermost first
using Strides = std::vector<int64_t>;  // in elements, not bytes

int64_t numel_of(const Shape& s);
Strides contiguous_strides(const Shape& s);
std::string shape_str(const Shape& s);  // "[2, 3]"

// Wraps a possibly negative dim into [0, ndim); throws naming `op` when out of range.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

// NumPy broadcasting: align from the right; sizes must match or be 1.
// Throws "<op>: shapes [..] and [..] cannot be broadcast (dim k: 3 vs 4)".
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Strides that read a tensor of (shape, strides) as if it had `target` shape:
// broadcast dims get stride 0.
Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target);

}  // namespace lucid

namespace std {
// Lets LUCID_CHECK(..., "got ", shape) print "[2, 3]".
inline ostream& operator<<(ostream& os, const vector<int64_t>& s) {
  os << '[';
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  return os << ']';
}
}  // namespace std
