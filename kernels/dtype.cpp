#include <lucid/kernels/dtype.h>

namespace lucid {

size_t element_size(ScalarType t) {
  switch (t) {
    case ScalarType::Float: case ScalarType::Int: return 4;
    case ScalarType::Double: case ScalarType::Long: return 8;
    case ScalarType::BFloat16: case ScalarType::Half: return 2;
    case ScalarType::Byte: case ScalarType::Bool: return 1;
  }
  return 0;
}

const char* dtype_name(ScalarType t) {
  switch (t) {
    case ScalarType::Float: return "float32";
    case ScalarType::Double: return "float64";
    case ScalarType::BFloat16: return "bfloat16";
    case ScalarType::Half: return "float16";
    case ScalarType::Long: return "int64";
    case ScalarType::Int: return "int32";
    case ScalarType::Byte: return "uint8";
    case ScalarType::Bool: return "bool";
  }
  return "?";
}

bool is_floating_point(ScalarType t) {
  return t == ScalarType::Float || t == ScalarType::Double || t == ScalarType::BFloat16 ||
         t == ScalarType::Half;
}

static int rank(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return 0;
    case ScalarType::Byte: return 1;
    case ScalarType::Int: return 2;
    case ScalarType::Long: return 3;
    case ScalarType::Half: case ScalarType::BFloat16: return 4;
    case ScalarType::Float: return 5;
    case ScalarType::Double: return 6;
  }
  return 0;
}

ScalarType promote_types(ScalarType a, ScalarType b) {
  if (a == b) return a;
  if ((a == ScalarType::Half && b == ScalarType::BFloat16) ||
      (a == ScalarType::BFloat16 && b == ScalarType::Half))
    return ScalarType::Float;
  return rank(a) >= rank(b) ? a : b;
}

// ---- bfloat16 -------------------------------------------------------------
BFloat16::BFloat16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN: keep it a quiet NaN
    bits = static_cast<uint16_t>((u >> 16) | 0x40);
    return;
  }
  uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
  bits = static_cast<uint16_t>((u + rounding) >> 16);
}
BFloat16::operator float() const {
  uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// ---- half -----------------------------------------------------------------
Half::Half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mag = x & 0x7fffffffu;
  if (mag > 0x7f800000u) { bits = static_cast<uint16_t>(sign | 0x7e00u); return; }  // NaN
  if (mag >= 0x477ff000u) { bits = static_cast<uint16_t>(sign | 0x7c00u); return; }  // overflow -> inf
  if (mag < 0x38800000u) {  // subnormal half (or zero): scale into the 10-bit mantissa
    float a;
    std::memcpy(&a, &mag, 4);
    // a * 2^24 rounded to nearest even gives the subnormal mantissa.
    float scaled = a * 16777216.0f;
    uint32_t m = static_cast<uint32_t>(scaled);
    float frac = scaled - static_cast<float>(m);
    if (frac > 0.5f || (frac == 0.5f && (m & 1u))) ++m;
    bits = static_cast<uint16_t>(sign | m);
    return;
  }
  // normal: rebias exponent (127 -> 15), round mantissa 23 -> 10 bits to nearest even
  uint32_t rounding = 0xfffu + ((mag >> 13) & 1u);
  mag += rounding;
  bits = static_cast<uint16_t>(sign | (((mag >> 13) - ((127 - 15) << 10)) & 0x7fffu));
}
Half::operator float() const {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exp = (bits >> 10) & 0x1fu;
  uint32_t man = bits & 0x3ffu;
  uint32_t out;
  if (exp == 0) {
    if (man == 0) {
      out = sign;
    } else {  // subnormal: value = man * 2^-24
      float v = static_cast<float>(man) * (1.0f / 16777216.0f);
      std::memcpy(&out, &v, 4);
      out |= sign;
    }
  } else if (exp == 31) {
    out = sign | 0x7f800000u | (man << 13);
  } else {
    out = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &out, 4);
  return f;
}

}  // namespace lucid
