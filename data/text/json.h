#pragma once
// A small JSON reader/writer for lucid's own files (tokenizers, trainer_state.json),
// not a general JSON library.
//
//   Value          an integer, number, string, bool, null, array or object
//                  (keys kept in file order)
//   parse(text)    text -> Value; errors name the source and the byte offset
//   dump(value)    Value -> text (arrays of scalars on one line, readable diffs)
//   quote          a string as a JSON string literal
//   format_number  a double as the shortest JSON number that reads back the same
//   read_file      parse a file
//   write_file     write atomically: a temp file renamed over the target
//   member/expect  typed access that reports "file: byte N: ..." on a mismatch
//
// Supported: objects, arrays, strings (escapes \" \\ \/ \b \f \n \r \t and
// \uXXXX incl. surrogate pairs, decoded to UTF-8; other bytes are kept as they
// are, so a string may hold any bytes), true, false, null, and numbers.
// Numbers are kept exact: one without a fraction or exponent is an Integer
// (64-bit; beyond that range is an error, never a rounded double), one with
// either is a Number (a double, parsed with correct rounding; out of the
// double range is an error). The writer prints a Number in the shortest form
// that reads back to the same double, always with a '.' or an exponent (1.0,
// not 1), so Integer and Number survive a round trip; NaN and infinities have
// no JSON form and are refused.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lucid::data::text::json {

enum class Kind { Integer, Number, String, Bool, Null, Array, Object };

const char* kind_name(Kind kind);

struct Value {
  Kind kind = Kind::Integer;
  int64_t integer = 0;
  double number = 0;    // Kind::Number
  bool boolean = false; // Kind::Bool
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;  // in file order
  size_t offset = 0;  // where the value starts in the parsed text, for errors

  // Declared here, defined after the class: clang 14 with libstdc++ 12 in
  // C++20 mode cannot define them implicitly for a type that holds
  // std::pair<std::string, Value> (a cycle through the constexpr ~vector).
  Value();
  ~Value();
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;

  static Value of_integer(int64_t v);
  static Value of_number(double v);  // refuses NaN and infinities
  static Value of_string(std::string v);
  static Value of_bool(bool v);
  static Value of_null();
  static Value of_array(std::vector<Value> v);
  static Value of_object(std::vector<std::pair<std::string, Value>> v);

  // The member named `key`, or nullptr (also when this is not an object).
  const Value* find(std::string_view key) const;
};

inline Value::Value() = default;
inline Value::~Value() = default;
inline Value::Value(const Value&) = default;
inline Value::Value(Value&&) noexcept = default;
inline Value& Value::operator=(const Value&) = default;
inline Value& Value::operator=(Value&&) noexcept = default;

// Throws lucid::Error "<source>: byte <offset>: <what>" for malformed or
// truncated text, nesting deeper than 64, or trailing garbage.
Value parse(std::string_view text, const std::string& source);
std::string dump(const Value& value);

// `s` as a JSON string literal, spelled as Python's json and Rust's serde_json
// write it: '"' and '\\' escaped, control characters as \b \t \n \f \r or
// \u00XX, every other byte as it is (UTF-8 passes through).
std::string quote(std::string_view s);
void append_quoted(std::string& out, std::string_view s);
// The shortest text that reads back as the same double, with ".0" added where
// it would read as an integer ("1.0", "1e+16", "0.1", "-0.0"). Raises for NaN
// and infinities, which JSON cannot hold.
std::string format_number(double v);

Value read_file(const std::string& path);
// Writes `path`.tmp, then renames it over `path`: a failed save leaves any
// previous file intact and no half-written file behind.
void write_file(const std::string& path, const Value& value);

// Content errors after parsing: throws "<source>: byte <at.offset>: <what>".
[[noreturn]] void fail(const std::string& source, const Value& at, const std::string& what);
// Checks `value` has `kind`; `what` names it in the error ("merges[3]").
const Value& expect(const Value& value, Kind kind, const std::string& what, const std::string& source);
// The member `key` of object `object`, which must exist and have `kind`.
const Value& member(const Value& object, std::string_view key, Kind kind, const std::string& source);

}  // namespace lucid::data::text::json
