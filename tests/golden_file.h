// Reading golden files (goldens/ops.txt, nn.txt, nn_layers.txt, optim.txt) and comparing lucid's
// tensors against their records. Format: goldens/README.md.
//
//   read_goldens(path)               the cases, each with its in/state/out records and attrs
//   find(records, name)              a record's tensor, or nullptr
//   record(records, name)            a record's tensor (error if missing)
//   check_close(where, got, want, tol)  FAIL_CHECK naming the first bad element
//   check_cases_match(file, cases, registry, what)  the file's cases and lucid's registry agree
//   In, Outs                         a case's inputs by name; what lucid computed, by name
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
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
  std::vector<Record> state;    // `state <key> ...` lines: a module's state_dict (nn_layers.txt)
  std::map<std::string, std::string> attrs;  // `attr <key> <value>` lines (nn.txt: mode)
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
    } else if (kind == "in" || kind == "out" || kind == "state") {
      LUCID_CHECK(!cases.empty(), "goldens: '", kind, "' record before any 'case' line");
      GoldenCase& c = cases.back();
      (kind == "in" ? c.inputs : kind == "out" ? c.outputs : c.state).push_back(parse_tensor(line));
    } else if (kind == "attr") {
      LUCID_CHECK(!cases.empty(), "goldens: 'attr' line before any 'case' line");
      std::string key, value;
      line >> key >> value;
      cases.back().attrs[key] = value;
    } else {
      LUCID_CHECK(kind == "end", "goldens: unknown record kind '", kind, "'");
    }
  }
  return cases;
}

inline const Tensor* find(const std::vector<Record>& records, const std::string& name) {
  for (const Record& r : records)
    if (r.name == name) return &r.value;
  return nullptr;
}

// The record named `name` (error if the case has none).
inline const Tensor& record(const std::vector<Record>& records, const std::string& name) {
  if (const Tensor* t = find(records, name)) return *t;
  throw Error("goldens: no record named '" + name + "'");
}

// |lucid - torch| <= atol + rtol * |torch| (float32), or <= tol64 * (1 + |torch|)
// for float64; integer and bool records must match exactly.
struct Tolerance {
  double rtol32, atol32, tol64;
};

// Checks one lucid tensor against its golden record; a failure names the case,
// the record, the first bad element and how many are bad.
inline void check_close(const std::string& where, const Tensor& got, const Tensor& want,
                        const Tolerance& tol) {
  if (!got.defined()) {
    FAIL_CHECK(where << ": lucid returned an undefined tensor");
    return;
  }
  if (got.dtype() != want.dtype() || got.sizes() != want.sizes()) {
    FAIL_CHECK(where << ": lucid gave " << got.dtype() << " " << shape_str(got.sizes())
                     << ", torch " << want.dtype() << " " << shape_str(want.sizes()));
    return;
  }
  const bool exact = !want.is_floating_point();
  const double rtol = want.dtype() == kFloat64 ? tol.tol64 : tol.rtol32;
  const double atol = want.dtype() == kFloat64 ? tol.tol64 : tol.atol32;
  Tensor g = got.detach().to(kFloat64).contiguous(), w = want.to(kFloat64).contiguous();
  const double* gp = g.data_ptr<double>();
  const double* wp = w.data_ptr<double>();
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < w.numel(); ++i) {
    const double err = std::abs(gp[i] - wp[i]);
    const bool ok = exact ? gp[i] == wp[i] : err <= atol + rtol * std::abs(wp[i]);
    if (!ok && bad++ == 0) first = i;
  }
  if (bad > 0) {
    std::ostringstream msg;
    msg.precision(want.dtype() == kFloat64 ? 17 : 9);
    msg << where << ": " << bad << " of " << w.numel() << " elements differ; first at flat index "
        << first << ": lucid " << gp[first] << ", torch " << wp[first];
    FAIL_CHECK(msg.str());
  }
}

// The file's cases and the test's lucid-side registry (a map from case name) name the same
// cases: none is in the file twice, every file case has a lucid `what` ("lucid module", ...)
// and every registry entry has a case in `file`.
template <class Registry>
void check_cases_match(const std::string& file, const std::vector<GoldenCase>& cases, const Registry& registry,
                       const std::string& what) {
  REQUIRE(cases.size() > 0);
  std::set<std::string> in_file;
  for (const GoldenCase& c : cases) {
    CHECK_MESSAGE(in_file.insert(c.name).second, "duplicate case ", c.name);
    CHECK_MESSAGE(registry.count(c.name) == 1, "case ", c.name, " in ", file, " has no ", what);
  }
  for (const auto& entry : registry)
    CHECK_MESSAGE(in_file.count(entry.first) == 1, "registry case ", entry.first, " is not in ", file);
}

// A case's inputs by name, for the registry rows of the golden tests.
class In {
 public:
  explicit In(const std::vector<Record>& records) : records_(records) {}
  const Tensor& operator[](const std::string& name) const {
    if (const Tensor* t = find(records_, name)) return *t;
    throw Error("goldens: the case has no input named '" + name + "'");
  }

 private:
  const std::vector<Record>& records_;
};

// What lucid computed, by name; a lone Tensor is the output "out".
struct Outs {
  std::vector<Record> records;
  Outs(Tensor out) : records{{"out", std::move(out)}} {}  // NOLINT: implicit, for one-line rows
  Outs(std::initializer_list<Record> r) : records(r) {}
  Outs(std::vector<Record> r) : records(std::move(r)) {}
};

}  // namespace lucid::testing
