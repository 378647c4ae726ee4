#include <lucid/train/state_json.h>

#include <cmath>
#include <limits>
#include <vector>

#include <lucid/kernels/factory.h>

namespace lucid::train {

namespace json = data::text::json;
using json::Kind;
using json::Value;

namespace {

bool is_plain(const Tensor& t) {
  return (t.dtype() == kInt64 || t.dtype() == kFloat64) && (t.dim() == 0 || (t.dim() == 1 && t.numel() > 0));
}

// Element i of a contiguous CPU tensor as JSON.
Value element(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case kInt64: return Value::of_integer(t.data_ptr<int64_t>()[i]);
    case kInt32: return Value::of_integer(t.data_ptr<int32_t>()[i]);
    case kUInt8: return Value::of_integer(t.data_ptr<uint8_t>()[i]);
    case kBool: return Value::of_bool(t.data_ptr<bool>()[i]);
    case kFloat32: return double_to_json(t.data_ptr<float>()[i]);
    case kFloat64: return double_to_json(t.data_ptr<double>()[i]);
    default: break;
  }
  throw Error(detail::str_cat("state_to_json: dtype ", t.dtype(), " is not stored in JSON"));
}

ScalarType dtype_named(const std::string& name, const std::string& what, const std::string& source,
                       const Value& at) {
  for (ScalarType t : {kInt64, kInt32, kUInt8, kBool, kFloat32, kFloat64})
    if (name == dtype_name(t)) return t;
  json::fail(source, at, what + ": unknown dtype \"" + name + "\"");
}

// Writes `v` as element i of the contiguous CPU tensor t, checking that it fits.
void set_element(Tensor& t, int64_t i, const Value& v, const std::string& what, const std::string& source) {
  auto integer = [&](int64_t lo, int64_t hi) {
    const int64_t x = json::expect(v, Kind::Integer, what, source).integer;
    if (x < lo || x > hi)
      json::fail(source, v, detail::str_cat(what, ": ", x, " is out of the range of ", t.dtype()));
    return x;
  };
  switch (t.dtype()) {
    case kInt64: t.data_ptr<int64_t>()[i] = json::expect(v, Kind::Integer, what, source).integer; return;
    case kInt32: t.data_ptr<int32_t>()[i] = static_cast<int32_t>(integer(INT32_MIN, INT32_MAX)); return;
    case kUInt8: t.data_ptr<uint8_t>()[i] = static_cast<uint8_t>(integer(0, 255)); return;
    case kBool: t.data_ptr<bool>()[i] = json::expect(v, Kind::Bool, what, source).boolean; return;
    case kFloat32: {
      const double d = double_from_json(v, what, source);
      const float f = static_cast<float>(d);
      if (std::isfinite(d) && static_cast<double>(f) != d)
        json::fail(source, v, what + ": not exactly a float32 value");
      t.data_ptr<float>()[i] = f;
      return;
    }
    case kFloat64: t.data_ptr<double>()[i] = double_from_json(v, what, source); return;
    default: break;
  }
  json::fail(source, v, what + ": unsupported dtype");
}

}  // namespace

Value double_to_json(double v) {
  if (std::isnan(v)) return Value::of_string("NaN");
  if (std::isinf(v)) return Value::of_string(v > 0 ? "Infinity" : "-Infinity");
  return Value::of_number(v);
}

double double_from_json(const Value& v, const std::string& what, const std::string& source) {
  if (v.kind == Kind::Number) return v.number;
  if (v.kind == Kind::String) {
    if (v.string == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (v.string == "Infinity") return std::numeric_limits<double>::infinity();
    if (v.string == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  json::fail(source, v, what + " must be a number (or \"NaN\", \"Infinity\", \"-Infinity\"), not " +
                            json::kind_name(v.kind));
}

Value state_to_json(const StateDict& dict, const std::string& who) {
  std::vector<std::pair<std::string, Value>> members;
  for (const auto& item : dict) {
    const Tensor& t0 = item.value();
    LUCID_CHECK(t0.defined(), who, ": state entry '", item.key(), "' is undefined");
    LUCID_CHECK(t0.numel() <= kMaxJsonElements, who, ": state entry '", item.key(), "' has ", t0.numel(),
                " elements; entries above ", kMaxJsonElements, " belong in a safetensors file");
    const Tensor t = t0.to(kCPU).contiguous();
    if (is_plain(t)) {
      if (t.dim() == 0) {
        members.emplace_back(item.key(), element(t, 0));
      } else {
        std::vector<Value> values;
        for (int64_t i = 0; i < t.numel(); ++i) values.push_back(element(t, i));
        members.emplace_back(item.key(), Value::of_array(std::move(values)));
      }
      continue;
    }
    const ScalarType d = t.dtype();
    LUCID_CHECK(d == kInt64 || d == kInt32 || d == kUInt8 || d == kBool || d == kFloat32 || d == kFloat64, who,
                ": state entry '", item.key(), "' is ", d, "; JSON holds int64, int32, uint8, bool, float32 and "
                "float64 only");
    std::vector<Value> shape, values;
    for (int64_t s : t.sizes()) shape.push_back(Value::of_integer(s));
    for (int64_t i = 0; i < t.numel(); ++i) values.push_back(element(t, i));
    members.emplace_back(item.key(), Value::of_object({{"dtype", Value::of_string(dtype_name(d))},
                                                       {"shape", Value::of_array(std::move(shape))},
                                                       {"values", Value::of_array(std::move(values))}}));
  }
  return Value::of_object(std::move(members));
}

StateDict state_from_json(const Value& object, const std::string& what, const std::string& source) {
  json::expect(object, Kind::Object, what, source);
  StateDict dict;
  for (const auto& [key, v] : object.object) {
    const std::string name = what + "." + key;
    Tensor t;
    if (v.kind == Kind::Integer) {
      t = state_int(v.integer);
    } else if (v.kind == Kind::Number || v.kind == Kind::String) {
      t = state_double(double_from_json(v, name, source));
    } else if (v.kind == Kind::Array) {
      if (v.array.empty()) json::fail(source, v, name + ": an empty list has no dtype (write the object form)");
      const bool ints = v.array.front().kind == Kind::Integer;
      t = empty({static_cast<int64_t>(v.array.size())}, ints ? kInt64 : kFloat64);
      for (size_t i = 0; i < v.array.size(); ++i)
        set_element(t, static_cast<int64_t>(i), v.array[i], detail::str_cat(name, "[", i, "]"), source);
    } else if (v.kind == Kind::Object) {
      const ScalarType d = dtype_named(json::member(v, "dtype", Kind::String, source).string, name, source, v);
      Shape shape;
      int64_t n = 1;
      for (const Value& s : json::member(v, "shape", Kind::Array, source).array) {
        const int64_t size = json::expect(s, Kind::Integer, name + ".shape", source).integer;
        if (size < 0 || size > kMaxJsonElements || (size > 0 && n > kMaxJsonElements / size))
          json::fail(source, s, name + ": shape too large or negative for a JSON state entry");
        n *= size;
        shape.push_back(size);
      }
      const Value& values = json::member(v, "values", Kind::Array, source);
      if (static_cast<int64_t>(values.array.size()) != n)
        json::fail(source, values, detail::str_cat(name, ": ", values.array.size(), " values for shape ", shape));
      t = empty(shape, d);
      for (int64_t i = 0; i < n; ++i)
        set_element(t, i, values.array[static_cast<size_t>(i)], detail::str_cat(name, "[", i, "]"), source);
    } else {
      json::fail(source, v, name + ": expected a number, a list or a tensor object, not " + json::kind_name(v.kind));
    }
    dict.insert(key, t);
  }
  return dict;
}

}  // namespace lucid::train
