#pragma once
// UTF-8 helpers shared by the JSON reader (\uXXXX escapes) and the char tokenizer.
//
//   append_utf8(out, cp)        encode one code point
//   next_code_point(text, pos)  decode one code point strictly, advancing pos
//   describe_code_point(cp)     "'a' (U+0061)" for error messages
//   invalid_utf8_at(text)       where the first invalid byte is (npos: valid UTF-8)

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace lucid::data::text {

// Appends the UTF-8 encoding of `cp` (must be <= 0x10FFFF and not a surrogate).
void append_utf8(std::string& out, char32_t cp);

// Decodes the code point starting at text[pos] and moves pos past it. Returns
// nullopt (pos unchanged) for invalid UTF-8: a stray continuation byte, a
// truncated sequence, an overlong form, a surrogate or a value past U+10FFFF.
std::optional<char32_t> next_code_point(std::string_view text, size_t& pos);

// "'a' (U+0061)" for printable characters, "U+000A" for control characters.
std::string describe_code_point(char32_t cp);

// The offset of the first byte that does not start a valid code point (by
// next_code_point's strict rules), or std::string_view::npos for valid UTF-8.
size_t invalid_utf8_at(std::string_view text);

}  // namespace lucid::data::text
