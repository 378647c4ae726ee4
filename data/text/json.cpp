#include <lucid/data/text/json.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include <lucid/data/text/utf8.h>
#include <lucid/kernels/error.h>

namespace lucid::data::text::json {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::Integer: return "an integer";
    case Kind::Number: return "a number";
    case Kind::String: return "a string";
    case Kind::Bool: return "true or false";
    case Kind::Null: return "null";
    case Kind::Array: return "an array";
    case Kind::Object: return "an object";
  }
  return "?";
}

Value Value::of_integer(int64_t v) {
  Value out;
  out.kind = Kind::Integer;
  out.integer = v;
  return out;
}

Value Value::of_number(double v) {
  LUCID_CHECK(std::isfinite(v), "json: ", v, " has no JSON form (only finite numbers)");
  Value out;
  out.kind = Kind::Number;
  out.number = v;
  return out;
}

Value Value::of_bool(bool v) {
  Value out;
  out.kind = Kind::Bool;
  out.boolean = v;
  return out;
}

Value Value::of_null() {
  Value out;
  out.kind = Kind::Null;
  return out;
}

Value Value::of_string(std::string v) {
  Value out;
  out.kind = Kind::String;
  out.string = std::move(v);
  return out;
}

Value Value::of_array(std::vector<Value> v) {
  Value out;
  out.kind = Kind::Array;
  out.array = std::move(v);
  return out;
}

Value Value::of_object(std::vector<std::pair<std::string, Value>> v) {
  Value out;
  out.kind = Kind::Object;
  out.object = std::move(v);
  return out;
}

const Value* Value::find(std::string_view key) const {
  if (kind != Kind::Object) return nullptr;
  for (const auto& [k, v] : object)
    if (k == key) return &v;
  return nullptr;
}

// ---- reader ---------------------------------------------------------------

namespace {

constexpr int kMaxDepth = 64;

// A byte of the input as an error message shows it: 'x' when printable ASCII,
// else its hex value (the message stays valid UTF-8 whatever the input).
std::string shown(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7F) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", u);
  return buf;
}

// Recursive descent over the text; every error carries the byte offset.
class Parser {
 public:
  Parser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Value document() {
    Value v = value(0);
    skip_space();
    if (pos_ != text_.size()) error("unexpected ", shown(text_[pos_]), " after the end of the document");
    return v;
  }

 private:
  template <class... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    throw Error(detail::str_cat(source_, ": byte ", pos_, ": ", parts...));
  }

  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t'))
      ++pos_;
  }

  char peek() {
    if (pos_ >= text_.size()) error("unexpected end of file (truncated?)");
    return text_[pos_];
  }

  void expect_char(char c) {
    if (peek() != c) error("expected '", c, "' but found ", shown(text_[pos_]));
    ++pos_;
  }

  Value value(int depth) {
    if (depth > kMaxDepth) error("nesting deeper than ", kMaxDepth);
    skip_space();
    const size_t start = pos_;
    const char c = peek();
    Value v;
    if (c == '{') {
      v = object(depth);
    } else if (c == '[') {
      v = array(depth);
    } else if (c == '"') {
      v = Value::of_string(string());
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v = number();
    } else if (c == 't' || c == 'f' || c == 'n') {
      v = literal();
    } else {
      error("unexpected ", shown(c), " where a value should start");
    }
    v.offset = start;
    return v;
  }

  Value object(int depth) {
    expect_char('{');
    Value v = Value::of_object({});
    skip_space();
    if (peek() == '}') return ++pos_, v;
    std::unordered_set<std::string> keys;  // a hash set: a header of 100k keys parses in linear time
    for (;;) {
      skip_space();
      if (peek() != '"') error("expected a string key");
      std::string key = string();
      if (!keys.insert(key).second) error("duplicate key ", quote(key));
      skip_space();
      expect_char(':');
      v.object.emplace_back(std::move(key), value(depth + 1));
      skip_space();
      if (peek() == '}') return ++pos_, v;
      expect_char(',');
    }
  }

  Value array(int depth) {
    expect_char('[');
    Value v = Value::of_array({});
    skip_space();
    if (peek() == ']') return ++pos_, v;
    for (;;) {
      v.array.push_back(value(depth + 1));
      skip_space();
      if (peek() == ']') return ++pos_, v;
      expect_char(',');
    }
  }

  // true, false or null, spelled exactly.
  Value literal() {
    for (const auto& [word, value] : {std::pair<std::string_view, Value>{"true", Value::of_bool(true)},
                                      {"false", Value::of_bool(false)}, {"null", Value::of_null()}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    error("unexpected ", shown(text_[pos_]), " where a value should start");
  }

  // JSON's number grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, checked
  // here; then an Integer (no fraction, no exponent) or a Number.
  Value number() {
    const size_t start = pos_;
    auto digits = [&] {
      const size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (peek() == '-') ++pos_;
    if (peek() < '0' || peek() > '9') error("expected a digit");
    if (peek() == '0' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' && text_[pos_ + 1] <= '9')
      error("leading zeros are not allowed");
    digits();
    bool is_integer = true;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      is_integer = false;
      if (digits() == 0) error("expected a digit after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      is_integer = false;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) error("expected a digit in the exponent");
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (is_integer) {
      int64_t v = 0;
      const auto [end, ec] = std::from_chars(first, last, v);
      if (ec != std::errc() || end != last) at(start).error("integer out of the 64-bit range");
      return Value::of_integer(v);
    }
    double v = 0;
    const auto [end, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || end != last || !std::isfinite(v))
      at(start).error("number out of the range of a double");
    return Value::of_number(v);
  }

  // This parser, moved back to `pos` (for errors that name where a token starts).
  Parser& at(size_t pos) {
    pos_ = pos;
    return *this;
  }

  unsigned hex4() {
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      int d = (c >= '0' && c <= '9') ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) error("expected 4 hex digits after \\u");
      v = v * 16 + static_cast<unsigned>(d);
      ++pos_;
    }
    return v;
  }

  std::string string() {
    expect_char('"');
    std::string out;
    for (;;) {
      const char c = peek();
      if (c == '"') return ++pos_, out;
      if (static_cast<unsigned char>(c) < 0x20) error("raw control character in a string (write it escaped)");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          char32_t cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) error("lone low surrogate in a \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate must be followed by a low one
            if (peek() != '\\' || pos_ + 1 >= text_.size() || text_[pos_ + 1] != 'u')
              error("high surrogate not followed by a \\u low surrogate");
            pos_ += 2;
            const char32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) error("high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: --pos_; error("unknown escape \\", shown(e));
      }
    }
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
};

// ---- writer ---------------------------------------------------------------

bool is_scalar(const Value& v) { return v.kind != Kind::Array && v.kind != Kind::Object; }

bool all_scalars(const std::vector<Value>& values) {
  for (const auto& v : values)
    if (!is_scalar(v)) return false;
  return true;
}

void dump_value(std::string& out, const Value& v, int indent) {
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  switch (v.kind) {
    case Kind::Integer: out += std::to_string(v.integer); break;
    case Kind::Number: out += format_number(v.number); break;
    case Kind::String: append_quoted(out, v.string); break;
    case Kind::Bool: out += v.boolean ? "true" : "false"; break;
    case Kind::Null: out += "null"; break;
    case Kind::Array:
      if (all_scalars(v.array)) {  // [1, 2] on one line: one merge per line in the file
        out += '[';
        for (size_t i = 0; i < v.array.size(); ++i) {
          if (i) out += ", ";
          dump_value(out, v.array[i], indent);
        }
        out += ']';
      } else {
        out += "[\n";
        for (size_t i = 0; i < v.array.size(); ++i) {
          out += pad;
          dump_value(out, v.array[i], indent + 2);
          out += i + 1 < v.array.size() ? ",\n" : "\n";
        }
        out += std::string(static_cast<size_t>(indent), ' ') + ']';
      }
      break;
    case Kind::Object:
      out += "{\n";
      for (size_t i = 0; i < v.object.size(); ++i) {
        out += pad;
        append_quoted(out, v.object[i].first);
        out += ": ";
        dump_value(out, v.object[i].second, indent + 2);
        out += i + 1 < v.object.size() ? ",\n" : "\n";
      }
      out += std::string(static_cast<size_t>(indent), ' ') + '}';
      break;
  }
}

}  // namespace

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {  // other control characters may not appear raw
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;  // bytes >= 0x80 (UTF-8, or any bytes) as they are
        }
    }
  }
  out += '"';
}

std::string quote(std::string_view s) {
  std::string out;
  append_quoted(out, s);
  return out;
}

std::string format_number(double v) {
  LUCID_CHECK(std::isfinite(v), "json: ", v, " has no JSON form (only finite numbers)");
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // the shortest round-trip form
  LUCID_CHECK(ec == std::errc(), "json: cannot format ", v);
  std::string text(buf, end);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";  // a Number, not an Integer
  return text;
}

Value parse(std::string_view text, const std::string& source) { return Parser(text, source).document(); }

std::string dump(const Value& value) {
  std::string out;
  dump_value(out, value, 0);
  out += '\n';
  return out;
}

Value read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LUCID_CHECK(in, path, ": cannot open for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  LUCID_CHECK(!in.bad(), path, ": read error");
  return parse(buffer.str(), path);
}

void write_file(const std::string& path, const Value& value) {
  const std::string text = dump(value);
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    LUCID_CHECK(out, path, ": cannot open ", temp, " for writing");
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      out.close();
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw Error(detail::str_cat(path, ": write failed (", temp, " removed; ", path, " untouched)"));
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw Error(detail::str_cat(path, ": cannot rename ", temp, " over it: ", ec.message()));
  }
}

void fail(const std::string& source, const Value& at, const std::string& what) {
  throw Error(detail::str_cat(source, ": byte ", at.offset, ": ", what));
}

const Value& expect(const Value& value, Kind kind, const std::string& what, const std::string& source) {
  if (value.kind != kind)
    fail(source, value, detail::str_cat(what, " must be ", kind_name(kind), ", not ", kind_name(value.kind)));
  return value;
}

const Value& member(const Value& object, std::string_view key, Kind kind, const std::string& source) {
  expect(object, Kind::Object, "the document", source);
  const Value* v = object.find(key);
  if (!v) fail(source, object, detail::str_cat("missing key \"", key, "\""));
  return expect(*v, kind, detail::str_cat("\"", key, "\""), source);
}

}  // namespace lucid::data::text::json
