// lucid's JSON reader and writer (tokenizer files, trainer_state.json): escapes,
// integers and numbers kept exact, literals, error offsets, and the atomic
// save (a failed write leaves the old file intact).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>
#include <fstream>

#include <unistd.h>

#include <lucid/data/text/json.h>
#include <lucid/kernels/error.h>

using namespace lucid::data::text;
namespace fs = std::filesystem;

TEST_CASE("json: \\uXXXX escapes decode to UTF-8, surrogate pairs included") {
  const auto v = json::parse(R"(["a\u00e9\u4e2d\ud83d\ude00", "\n\t\"\\\/"])", "t.json");
  REQUIRE(v.kind == json::Kind::Array);
  CHECK(v.array[0].string == "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80");
  CHECK(v.array[1].string == "\n\t\"\\/");
}

TEST_CASE("json: dump then parse gives back any byte string and integer") {
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes += static_cast<char>(c);
  const auto v = json::Value::of_object(
      {{"s", json::Value::of_string(all_bytes)},
       {"n", json::Value::of_array({json::Value::of_integer(INT64_MIN), json::Value::of_integer(INT64_MAX),
                                    json::Value::of_integer(0), json::Value::of_integer(-7)})},
       {"nested", json::Value::of_array({json::Value::of_array({}), json::Value::of_object({})})}});
  const auto back = json::parse(json::dump(v), "t.json");
  CHECK(back.find("s")->string == all_bytes);
  const auto& n = back.find("n")->array;
  CHECK(n[0].integer == INT64_MIN);
  CHECK(n[1].integer == INT64_MAX);
  CHECK(n[3].integer == -7);
  CHECK(back.find("nested")->array.size() == 2);
  CHECK(back.find("missing") == nullptr);
}

TEST_CASE("json: numbers with a fraction or exponent are doubles that round-trip exactly") {
  const auto v = json::parse("[0.1, -2.5e-3, 1E2, 6e-3, 5e-324, 1.7976931348623157e308, -0.0, 3]", "t.json");
  REQUIRE(v.array.size() == 8);
  CHECK(v.array[0].kind == json::Kind::Number);
  CHECK(v.array[0].number == 0.1);
  CHECK(v.array[1].number == -2.5e-3);
  CHECK(v.array[2].number == 100.0);
  CHECK(v.array[3].number == 6e-3);
  CHECK(v.array[4].number == 5e-324);  // the smallest subnormal
  CHECK(v.array[5].number == 1.7976931348623157e308);
  CHECK(std::signbit(v.array[6].number));
  CHECK(v.array[7].kind == json::Kind::Integer);

  // Every double survives dump -> parse bit for bit, and stays a Number
  // (1.0 is written "1.0", not "1", which would read back as an Integer).
  std::vector<json::Value> values;
  const double samples[] = {1.0, -0.0, 0.1, 1.0 / 3.0, 6e-3, 1e300, 5e-324, 2.2250738585072014e-308, 123456789.0};
  for (double d : samples) values.push_back(json::Value::of_number(d));
  const auto back = json::parse(json::dump(json::Value::of_array(values)), "t.json");
  for (size_t i = 0; i < values.size(); ++i) {
    INFO(samples[i]);
    CHECK(back.array[i].kind == json::Kind::Number);
    CHECK(std::memcmp(&back.array[i].number, &samples[i], sizeof(double)) == 0);
  }
  CHECK_THROWS_WITH_AS(json::Value::of_number(NAN), doctest::Contains("no JSON form"), lucid::Error);
  CHECK_THROWS_WITH_AS(json::Value::of_number(INFINITY), doctest::Contains("no JSON form"), lucid::Error);
}

TEST_CASE("json: true, false and null") {
  const auto v = json::parse(R"({"a": true, "b": false, "c": null})", "t.json");
  CHECK(v.find("a")->kind == json::Kind::Bool);
  CHECK(v.find("a")->boolean);
  CHECK_FALSE(v.find("b")->boolean);
  CHECK(v.find("c")->kind == json::Kind::Null);
  const auto back = json::parse(json::dump(v), "t.json");
  CHECK(back.find("a")->boolean);
  CHECK(back.find("b")->kind == json::Kind::Bool);
  CHECK(back.find("c")->kind == json::Kind::Null);
  CHECK_THROWS_WITH_AS(json::member(v, "a", json::Kind::Integer, "t.json"),
                       doctest::Contains("\"a\" must be an integer, not true or false"), lucid::Error);
}

TEST_CASE("json: malformed text names the source and the byte offset") {
  const auto fails_with = [](const std::string& text, const std::string& message) {
    CHECK_THROWS_WITH_AS(json::parse(text, "f.json"), doctest::Contains(message.c_str()), lucid::Error);
  };
  fails_with("[1, 2", "f.json: byte 5: unexpected end of file");
  fails_with("{\"a\": 1,}", "f.json: byte 8: expected a string key");
  fails_with("[1] x", "f.json: byte 4: unexpected 'x' after the end");
  fails_with("[tru]", "f.json: byte 1: unexpected 't' where a value should start");
  fails_with("[nul]", "f.json: byte 1: unexpected 'n' where a value should start");
  fails_with("[99999999999999999999]", "f.json: byte 1: integer out of the 64-bit range");
  fails_with("[1e400]", "f.json: byte 1: number out of the range of a double");
  fails_with("[1.]", "expected a digit after '.'");
  fails_with("[.5]", "unexpected '.' where a value should start");
  fails_with("[1e]", "expected a digit in the exponent");
  fails_with("[+1]", "unexpected '+'");
  fails_with("[-]", "expected a digit");
  fails_with("[NaN]", "unexpected 'N'");
  fails_with("[\"\\q\"]", "f.json: byte 3: unknown escape \\'q'");
  fails_with("[\xef]", "f.json: byte 1: unexpected byte 0xef where a value should start");  // shown as hex
  fails_with("[\"\\ud800x\"]", "high surrogate not followed");
  fails_with("[\"\\udc00\"]", "lone low surrogate");
  fails_with("[\"a\nb\"]", "raw control character");
  fails_with("{\"a\": 1, \"a\": 2}", "duplicate key \"a\"");
  fails_with("[007]", "leading zeros");
  fails_with(std::string(100, '['), "nesting deeper than 64");
  fails_with("", "f.json: byte 0: unexpected end of file");
}

TEST_CASE("json: write_file replaces atomically; a failed write leaves the old file and no temp") {
  const fs::path dir = fs::temp_directory_path() / ("lucid_test_json_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "t.json").string();
  json::write_file(path, json::Value::of_integer(1));
  json::write_file(path, json::Value::of_integer(2));
  CHECK(json::read_file(path).integer == 2);
  CHECK_FALSE(fs::exists(path + ".tmp"));

  // Make the temp file impossible to create: the save must fail cleanly.
  fs::create_directory(path + ".tmp");
  CHECK_THROWS_WITH_AS(json::write_file(path, json::Value::of_integer(3)), doctest::Contains(path.c_str()),
                       lucid::Error);
  CHECK(json::read_file(path).integer == 2);
  fs::remove(path + ".tmp");

  CHECK_THROWS_WITH_AS(json::write_file((dir / "no_such_dir" / "x.json").string(), json::Value::of_integer(1)),
                       doctest::Contains("cannot open"), lucid::Error);
  fs::remove_all(dir);
}
