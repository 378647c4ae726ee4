// Scalar types: the dtypes a Tensor can hold, their sizes and names, and the
// 16-bit float formats (stored as bits, converted through float).
#pragma once
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>

namespace lucid {

enum class ScalarType : uint8_t { Float, Double, BFloat16, Half, Long, Int, Byte, Bool };

// LibTorch spellings: torch::kFloat32 == torch::kFloat, ...
inline constexpr ScalarType kFloat32 = ScalarType::Float, kFloat = ScalarType::Float;
inline constexpr ScalarType kFloat64 = ScalarType::Double, kDouble = ScalarType::Double;
inline constexpr ScalarType kBFloat16 = ScalarType::BFloat16;
inline constexpr ScalarType kFloat16 = ScalarType::Half, kHalf = ScalarType::Half;
inline constexpr ScalarType kInt64 = ScalarType::Long, kLong = ScalarType::Long;
inline constexpr ScalarType kInt32 = ScalarType::Int, kInt = ScalarType::Int;
inline constexpr ScalarType kUInt8 = ScalarType::Byte, kByte = ScalarType::Byte;
inline constexpr ScalarType kBool = ScalarType::Bool;

size_t element_size(ScalarType t);
const char* dtype_name(ScalarType t);  // "float32", "int64", ...
bool is_floating_point(ScalarType t);
inline std::ostream& operator<<(std::ostream& os, ScalarType t) { return os << dtype_name(t); }

// Type promotion for binary ops, as torch.result_type for two tensors:
// bool < uint8 < int32 < int64 < (float16 | bfloat16) < float32 < float64;
// float16 with bfloat16 gives float32.
ScalarType promote_types(ScalarType a, ScalarType b);

// bfloat16: the top 16 bits of a float32 (round to nearest even on conversion).
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f);  // NOLINT: implicit, like a number
  operator float() const;
};

// IEEE 754 half precision (1 sign, 5 exponent, 10 mantissa bits).
struct Half {
  uint16_t bits = 0;
  Half() = default;
  Half(float f);  // NOLINT
  operator float() const;
};

// The C++ type stored for each ScalarType.
template <ScalarType T> struct CppType;
template <> struct CppType<ScalarType::Float> { using type = float; };
template <> struct CppType<ScalarType::Double> { using type = double; };
template <> struct CppType<ScalarType::BFloat16> { using type = BFloat16; };
template <> struct CppType<ScalarType::Half> { using type = Half; };
template <> struct CppType<ScalarType::Long> { using type = int64_t; };
template <> struct CppType<ScalarType::Int> { using type = int32_t; };
template <> struct CppType<ScalarType::Byte> { using type = uint8_t; };
template <> struct CppType<ScalarType::Bool> { using type = bool; };

template <class T> constexpr ScalarType scalar_type_of();
template <> constexpr ScalarType scalar_type_of<float>() { return ScalarType::Float; }
template <> constexpr ScalarType scalar_type_of<double>() { return ScalarType::Double; }
template <> constexpr ScalarType scalar_type_of<BFloat16>() { return ScalarType::BFloat16; }
template <> constexpr ScalarType scalar_type_of<Half>() { return ScalarType::Half; }
template <> constexpr ScalarType scalar_type_of<int64_t>() { return ScalarType::Long; }
template <> constexpr ScalarType scalar_type_of<int32_t>() { return ScalarType::Int; }
template <> constexpr ScalarType scalar_type_of<uint8_t>() { return ScalarType::Byte; }
template <> constexpr ScalarType scalar_type_of<bool>() { return ScalarType::Bool; }

// Calls fn(T{}) with T the C++ type of `t`: the one switch over dtypes.
template <class Fn>
decltype(auto) visit_dtype(ScalarType t, Fn&& fn) {
  switch (t) {
    case ScalarType::Float: return fn(float{});
    case ScalarType::Double: return fn(double{});
    case ScalarType::BFloat16: return fn(BFloat16{});
    case ScalarType::Half: return fn(Half{});
    case ScalarType::Long: return fn(int64_t{});
    case ScalarType::Int: return fn(int32_t{});
    case ScalarType::Byte: return fn(uint8_t{});
    case ScalarType::Bool: return fn(bool{});
  }
  return fn(float{});
}

}  // namespace lucid
