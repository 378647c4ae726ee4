#include <lucid/data/text/tokenizer.h>

#include <lucid/data/text/bpe_tokenizer.h>
#include <lucid/data/text/char_tokenizer.h>
#include <lucid/data/text/json.h>

namespace lucid::data::text {

std::shared_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  const json::Value doc = json::read_file(path);
  const json::Value& type = json::member(doc, "type", json::Kind::String, path);
  if (type.string == "char") return std::make_shared<CharTokenizer>(CharTokenizer::from_json(doc, path));
  if (type.string == "bpe") return std::make_shared<BpeTokenizer>(BpeTokenizer::from_json(doc, path));
  json::fail(path, type, "unknown tokenizer \"type\" \"" + type.string + "\" (expected \"char\" or \"bpe\")");
}

}  // namespace lucid::data::text
