#include <lucid/kernels/ordered_dict.h>

#include <lucid/kernels/factory.h>

namespace lucid {

Tensor state_double(double value) { return scalar_tensor(value, kFloat64); }
Tensor state_int(int64_t value) {
  Tensor t = empty({}, kInt64);
  *t.data_ptr<int64_t>() = value;  // written directly: a trip through double rounds beyond 2^53
  return t;
}

namespace {
const Tensor& read_scalar(const StateDict& dict, const std::string& key, const std::string& who,
                          ScalarType want) {
  const Tensor* t = dict.find(key);
  LUCID_CHECK(t != nullptr, who, ": state_dict has no entry '", key, "'");
  LUCID_CHECK(t->numel() == 1 && t->dtype() == want, who, ": state_dict entry '", key,
              "' should be a ", want, " scalar, got ", t->dtype(), " of shape ", t->sizes());
  return *t;
}
}  // namespace

double read_double(const StateDict& dict, const std::string& key, const std::string& who) {
  return read_scalar(dict, key, who, kFloat64).cpu().item<double>();
}
int64_t read_int(const StateDict& dict, const std::string& key, const std::string& who) {
  return read_scalar(dict, key, who, kInt64).cpu().item<int64_t>();
}

}  // namespace lucid
