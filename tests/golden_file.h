// Reading the golden files (goldens/ops.txt, goldens/optim.txt; format: goldens/README.md):
// `case <name>`, then `in`/`out` tensor records, then `end`.
#pragma once
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <lucid/lucid.h>

namespace lucid::testing {

struct Record {
  std::string name;
  Tensor value;
};

struct GoldenCase {
  std::string name;
  std::vector<Record> inputs;   // includes grad_out when the case has gradients
  std::vector<Record> outputs;  // op outputs, then grad_<x> records
};

inline ScalarType parse_dtype(const std::string& s) {
  if (s == "f32") return kFloat32;
  if (s == "f64") return kFloat64;
  if (s == "i64") return kInt64;
  if (s == "bool") return kBool;
  throw Error("goldens: unknown dtype '" + s + "'");
}

// `<name> <dtype> <ndim> <dims...> <values...>`, the rest of an in/out line.
inline Record parse_tensor(std::istringstream& line) {
  Record r;
  std::string dt;
  int64_t ndim = 0;
  line >> r.name >> dt >> ndim;
  Shape shape(static_cast<size_t>(ndim));
  for (int64_t& d : shape) line >> d;
  r.value = empty(shape, parse_dtype(dt));
  visit_dtype(r.value.dtype(), [&](auto zero) {
    using T = decltype(zero);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> ||
                  std::is_same_v<T, int64_t>) {
      T* p = r.value.data_ptr<T>();
      for (int64_t i = 0; i < r.value.numel(); ++i) line >> p[i];
    } else if constexpr (std::is_same_v<T, bool>) {
      bool* p = r.value.data_ptr<bool>();
      for (int64_t i = 0; i < r.value.numel(); ++i) {
        int v = 0;
        line >> v;
        p[i] = v != 0;
      }
    }
  });
  std::string extra;
  LUCID_CHECK(!line.fail() && !(line >> extra), "goldens: record '", r.name, "' has ",
              line.fail() ? "too few" : "too many", " values for shape ", shape);
  return r;
}

inline std::vector<GoldenCase> read_goldens(const std::string& path) {
  std::ifstream f(path);
  LUCID_CHECK(f.good(), "goldens: cannot open ", path, " (tests run from tests/)");
  std::vector<GoldenCase> cases;
  std::string text;
  while (std::getline(f, text)) {
    if (text.empty() || text[0] == '#') continue;
    std::istringstream line(text);
    std::string kind;
    line >> kind;
    if (kind == "case") {
      cases.emplace_back();
      line >> cases.back().name;
    } else if (kind == "in" || kind == "out") {
      LUCID_CHECK(!cases.empty(), "goldens: '", kind, "' record before any 'case' line");
      (kind == "in" ? cases.back().inputs : cases.back().outputs).push_back(parse_tensor(line));
    } else {
      LUCID_CHECK(kind == "end", "goldens: unknown record kind '", kind, "'");
    }
  }
  return cases;
}

// The record named `name` (error if the case has none).
inline const Tensor& record(const std::vector<Record>& records, const std::string& name) {
  for (const Record& r : records)
    if (r.name == name) return r.value;
  throw Error("goldens: no record named '" + name + "'");
}

}  // namespace lucid::testing
