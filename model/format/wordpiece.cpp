#include "model/format/wordpiece.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/json_file.h"
#include "model/format/model_config.h"
#include "model/format/unicode.h"

namespace autopeft::model {

namespace {

bool is_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || unicode::category(c) == "Zs";
}

bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return unicode::category(c)[0] == 'C';
}

bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
    return true;
  return unicode::category(c)[0] == 'P';
}

bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

const char* kSpecials[] = {"[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"};

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(const std::string& vocab_file, const WordPieceOptions& options)
    : options_(options) {
  std::ifstream in(vocab_file, std::ios::binary);
  if (!in) throw_user_error(vocab_file, "cannot open the WordPiece vocabulary");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens_.push_back(line);
  }
  index(vocab_file);
}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> tokens, const WordPieceOptions& options,
                                       const std::string& source)
    : options_(options), tokens_(std::move(tokens)) {
  index(source);
}

void WordPieceTokenizer::index(const std::string& source) {
  for (std::size_t id = 0; id < tokens_.size(); ++id)
    if (!vocab_.emplace(tokens_[id], static_cast<std::int64_t>(id)).second)
      throw_user_error(source + ":" + std::to_string(id + 1), "token '" + tokens_[id] + "' appears twice");
  if (tokens_.empty()) throw_user_error(source, "empty vocabulary");
  for (const char* s : kSpecials)
    if (vocab_.count(s)) never_split_.emplace_back(s);
  if (!vocab_.count("[UNK]")) throw_user_error(source, "the vocabulary has no [UNK] token");
  special_.unk = id_of("[UNK]");
  special_.cls = vocab_.count("[CLS]") ? id_of("[CLS]") : -1;
  special_.sep = vocab_.count("[SEP]") ? id_of("[SEP]") : -1;
  special_.pad = vocab_.count("[PAD]") ? id_of("[PAD]") : -1;
  special_.mask = vocab_.count("[MASK]") ? id_of("[MASK]") : -1;
  template_ = PairTemplate::bert;
}

std::unique_ptr<WordPieceTokenizer> WordPieceTokenizer::from_dir(const std::string& dir,
                                                                 std::int64_t position_limit) {
  namespace fs = std::filesystem;
  WordPieceOptions o;
  std::int64_t max_length = position_limit;
  const auto cfg_path = fs::path(dir) / "tokenizer_config.json";
  if (fs::exists(cfg_path)) {
    const nlohmann::json c = read_json_file(cfg_path.string(), "tokenizer config");
    auto flag = [&](const char* key, bool fallback) {
      if (!c.contains(key) || c[key].is_null()) return fallback;
      if (!c[key].is_boolean())
        throw_user_error(cfg_path.string(), std::string("'") + key + "' must be true or false");
      return c[key].get<bool>();
    };
    o.do_lower_case = flag("do_lower_case", true);
    o.tokenize_chinese_chars = flag("tokenize_chinese_chars", true);
    if (c.contains("strip_accents") && !c["strip_accents"].is_null())
      o.strip_accents = flag("strip_accents", false);
    max_length = capped_model_max_length(c, position_limit);
  }
  auto t = std::make_unique<WordPieceTokenizer>((fs::path(dir) / "vocab.txt").string(), o);
  t->set_model_max_length(max_length);
  return t;
}

std::int64_t WordPieceTokenizer::id_of(const std::string& token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? special_.unk : it->second;
}

std::vector<std::string> WordPieceTokenizer::basic_tokenize(const std::string& text) const {
  std::vector<char32_t> cleaned;
  for (char32_t c : unicode::decode(text)) {
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) {
      cleaned.push_back(' ');
    } else if (options_.tokenize_chinese_chars && is_cjk(c)) {
      cleaned.insert(cleaned.end(), {U' ', c, U' '});
    } else {
      cleaned.push_back(c);
    }
  }
  cleaned = unicode::nfc(cleaned);
  const bool strip = options_.strip_accents.value_or(options_.do_lower_case);
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < cleaned.size()) {
    while (i < cleaned.size() && cleaned[i] == ' ') ++i;
    std::size_t j = i;
    while (j < cleaned.size() && cleaned[j] != ' ') ++j;
    if (j == i) break;
    std::vector<char32_t> word(cleaned.begin() + static_cast<long>(i),
                               cleaned.begin() + static_cast<long>(j));
    i = j;
    const std::string as_is = unicode::encode(word);
    if (std::find(never_split_.begin(), never_split_.end(), as_is) != never_split_.end()) {
      out.push_back(as_is);
      continue;
    }
    if (options_.do_lower_case)
      for (auto& c : word) c = unicode::to_lower(c);
    if (strip) {
      std::vector<char32_t> kept;
      for (char32_t c : unicode::nfd(word))
        if (unicode::category(c) != "Mn") kept.push_back(c);
      word = std::move(kept);
    }
    std::vector<char32_t> current;
    for (char32_t c : word) {
      if (is_punctuation(c)) {
        if (!current.empty()) out.push_back(unicode::encode(current));
        current.clear();
        out.push_back(unicode::encode(c));
      } else {
        current.push_back(c);
      }
    }
    if (!current.empty()) out.push_back(unicode::encode(current));
  }
  return out;
}

std::vector<std::string> WordPieceTokenizer::wordpiece(const std::string& word) const {
  const auto chars = unicode::decode(word);
  if (chars.size() > options_.max_chars_per_word) return {"[UNK]"};
  // Byte offsets of character boundaries, so substrings never split a character.
  std::vector<std::size_t> at{0};
  for (char32_t c : chars) at.push_back(at.back() + unicode::encode(c).size());
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (start < chars.size()) {
    std::size_t end = chars.size();
    std::string found;
    for (; end > start; --end) {
      std::string sub = word.substr(at[start], at[end] - at[start]);
      if (start > 0) sub = "##" + sub;
      if (vocab_.count(sub)) {
        found = std::move(sub);
        break;
      }
    }
    if (found.empty()) return {"[UNK]"};
    pieces.push_back(std::move(found));
    start = end;
  }
  return pieces;
}

std::vector<std::string> WordPieceTokenizer::tokenize(const std::string& text) const {
  std::vector<std::string> out;
  for (const auto& w : basic_tokenize(text)) {
    if (std::find(never_split_.begin(), never_split_.end(), w) != never_split_.end()) {
      out.push_back(w);
      continue;
    }
    for (auto& p : wordpiece(w)) out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::int64_t> WordPieceTokenizer::to_ids(const std::string& text) const {
  std::vector<std::int64_t> ids;
  for (const auto& t : tokenize(text)) ids.push_back(id_of(t));
  return ids;
}

std::string WordPieceTokenizer::id_to_token(std::int64_t id) const {
  if (id < 0 || id >= vocab_size())
    throw_user_error("token id",
                     std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab_size()));
  return tokens_[static_cast<std::size_t>(id)];
}

}  // namespace autopeft::model
