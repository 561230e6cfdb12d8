#include "model/format/bpe.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/json_file.h"
#include "model/format/model_config.h"
#include "model/format/unicode.h"

namespace autopeft::model {

namespace fs = std::filesystem;

namespace {

bool is_letter(char32_t c) { return unicode::category(c)[0] == 'L'; }
bool is_number(char32_t c) { return unicode::category(c)[0] == 'N'; }
// Unicode white space, as \s of Python's regex module.
bool is_space(char32_t c) {
  if ((c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c == 0x85) return true;
  const auto cat = unicode::category(c);
  return cat == "Zs" || cat == "Zl" || cat == "Zp";
}
enum class Kind { letter, number, other, space };
Kind kind(char32_t c) {
  if (is_space(c)) return Kind::space;
  if (is_letter(c)) return Kind::letter;
  if (is_number(c)) return Kind::number;
  return Kind::other;
}

const std::unordered_map<std::string, unsigned char>& byte_decoder() {
  static const auto table = [] {
    std::unordered_map<std::string, unsigned char> t;
    const auto& enc = ByteLevelBpe::byte_encoder();
    for (int b = 0; b < 256; ++b) t[enc[static_cast<std::size_t>(b)]] = static_cast<unsigned char>(b);
    return t;
  }();
  return table;
}

}  // namespace

const std::vector<std::string>& ByteLevelBpe::byte_encoder() {
  static const auto table = [] {
    std::vector<std::string> t(256);
    std::vector<bool> printable(256, false);
    for (int b = '!'; b <= '~'; ++b) printable[static_cast<std::size_t>(b)] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) printable[static_cast<std::size_t>(b)] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) printable[static_cast<std::size_t>(b)] = true;
    char32_t next = 256;
    for (int b = 0; b < 256; ++b)
      t[static_cast<std::size_t>(b)] =
          unicode::encode(printable[static_cast<std::size_t>(b)] ? static_cast<char32_t>(b) : next++);
    return t;
  }();
  return table;
}

namespace {

bool is_newline(char32_t c) { return c == U'\r' || c == U'\n'; }
char32_t lower_ascii(char32_t c) { return c >= U'A' && c <= U'Z' ? c + 32 : c; }

// Llama 3's pattern, alternative by alternative as the regex engine tries them at each position:
//   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3} | ?[^\s\p{L}\p{N}]+[\r\n]*
//   | \s*[\r\n]+ | \s+(?!\S) | \s+
// Returns the end of the match at i (every position matches one of them).
std::size_t llama3_match(const std::vector<char32_t>& c, std::size_t i) {
  const std::size_t n = c.size();
  if (c[i] == U'\'' && i + 1 < n) {
    const char32_t a = lower_ascii(c[i + 1]), b = i + 2 < n ? lower_ascii(c[i + 2]) : 0;
    if (a == U's' || a == U't' || a == U'm' || a == U'd') return i + 2;
    if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return i + 3;
  }
  const Kind k = kind(c[i]);
  // A letter run, after at most one character that is not a newline, letter or digit.
  std::size_t j = i;
  if (k != Kind::letter && k != Kind::number && !is_newline(c[i]) && i + 1 < n &&
      kind(c[i + 1]) == Kind::letter)
    ++j;
  if (kind(c[j]) == Kind::letter) {
    while (j < n && kind(c[j]) == Kind::letter) ++j;
    return j;
  }
  if (k == Kind::number) {
    j = i;
    while (j < n && j < i + 3 && kind(c[j]) == Kind::number) ++j;
    return j;
  }
  // Punctuation and symbols, after at most one plain space, then any newlines.
  j = c[i] == U' ' && i + 1 < n && kind(c[i + 1]) == Kind::other ? i + 1 : i;
  if (kind(c[j]) == Kind::other) {
    while (j < n && kind(c[j]) == Kind::other) ++j;
    while (j < n && is_newline(c[j])) ++j;
    return j;
  }
  // White space: up to its last newline; else all of it at the end of the text, all but its last
  // character before a non-space, or the one character.
  std::size_t end = i;
  while (end < n && kind(c[end]) == Kind::space) ++end;
  for (std::size_t m = end; m > i; --m)
    if (is_newline(c[m - 1])) return m;
  if (end == n || end - i == 1) return end;
  return end - 1;
}

}  // namespace

std::vector<std::string> ByteLevelBpe::pre_tokenize(const std::string& text, Pattern pattern) {
  const auto cps = unicode::decode(text);
  if (pattern == Pattern::llama3) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < cps.size();) {
      const auto j = llama3_match(cps, i);
      out.push_back(unicode::encode(std::vector<char32_t>(cps.begin() + static_cast<std::ptrdiff_t>(i),
                                                          cps.begin() + static_cast<std::ptrdiff_t>(j))));
      i = j;
    }
    return out;
  }
  const std::size_t n = cps.size();
  std::vector<std::string> out;
  auto emit = [&](std::size_t from, std::size_t to) {
    out.push_back(unicode::encode(std::vector<char32_t>(cps.begin() + static_cast<std::ptrdiff_t>(from),
                                                        cps.begin() + static_cast<std::ptrdiff_t>(to))));
  };
  std::size_t i = 0;
  while (i < n) {
    // 's 't 're 've 'm 'll 'd
    if (cps[i] == U'\'' && i + 1 < n) {
      std::size_t len = 0;
      const char32_t a = cps[i + 1], b = i + 2 < n ? cps[i + 2] : 0;
      if (a == U's' || a == U't' || a == U'm' || a == U'd')
        len = 2;
      else if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l'))
        len = 3;
      if (len) {
        emit(i, i + len);
        i += len;
        continue;
      }
    }
    // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional plain space, then a run of one class.
    std::size_t start = i, j = i;
    if (cps[j] == U' ' && j + 1 < n && kind(cps[j + 1]) != Kind::space) ++j;
    const Kind k = kind(cps[j]);
    if (k != Kind::space) {
      while (j < n && kind(cps[j]) == k) ++j;
      emit(start, j);
      i = j;
      continue;
    }
    // White space: '\s+(?!\S)' leaves the last white-space character to the next piece when a
    // non-space follows; '\s+' takes a lone one.
    while (j < n && kind(cps[j]) == Kind::space) ++j;
    if (j < n && j - i > 1) --j;
    emit(i, j);
    i = j;
  }
  return out;
}

ByteLevelBpe::ByteLevelBpe(std::unordered_map<std::string, std::int64_t> vocab,
                           std::vector<std::pair<std::string, std::string>> merges, Options options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  std::int64_t max_id = -1;
  for (const auto& [piece, id] : vocab_) max_id = std::max(max_id, id);
  id_to_piece_.assign(static_cast<std::size_t>(max_id + 1), "");
  for (const auto& [piece, id] : vocab_) {
    if (id < 0) throw_user_error("vocab", "negative id for '" + piece + "'");
    id_to_piece_[static_cast<std::size_t>(id)] = piece;
  }
  for (std::size_t r = 0; r < merges.size(); ++r) ranks_.emplace(merges[r], static_cast<int>(r));
  for (const auto& t : options_.special_tokens)
    if (!vocab_.count(t)) throw_user_error("vocab", "special token '" + t + "' is not in the vocabulary");
  // Longest first, so that one special token that starts another is not matched instead.
  std::sort(options_.special_tokens.begin(), options_.special_tokens.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::unique_ptr<ByteLevelBpe> ByteLevelBpe::from_files(const std::string& vocab_json,
                                                       const std::string& merges_txt, Options options) {
  const auto v = read_json_file(vocab_json, "BPE vocabulary");
  if (!v.is_object()) throw_user_error(vocab_json, "must be a JSON object of piece: id");
  std::unordered_map<std::string, std::int64_t> vocab;
  for (const auto& [piece, id] : v.items()) {
    if (!id.is_number_integer()) throw_user_error(vocab_json, "the id of '" + piece + "' is not an integer");
    vocab[piece] = id.get<std::int64_t>();
  }
  std::ifstream in(merges_txt);
  if (!in) throw_user_error(merges_txt, "cannot read the BPE merges");
  std::vector<std::pair<std::string, std::string>> merges;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("#version", 0) == 0)) continue;
    const auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 >= line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      throw_user_error(merges_txt + ":" + std::to_string(number),
                       "expected two pieces separated by one space");
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return std::make_unique<ByteLevelBpe>(std::move(vocab), std::move(merges), std::move(options));
}

std::unique_ptr<ByteLevelBpe> ByteLevelBpe::roberta_from_dir(const std::string& dir,
                                                             std::int64_t position_limit) {
  Options o;
  o.special_tokens = {"<s>", "<pad>", "</s>", "<unk>", "<mask>"};
  nlohmann::json config = nlohmann::json::object();
  const auto config_path = fs::path(dir) / "tokenizer_config.json";
  if (fs::exists(config_path)) config = read_json_file(config_path.string(), "tokenizer config");
  if (config.contains("add_prefix_space") && config["add_prefix_space"].is_boolean())
    o.add_prefix_space = config["add_prefix_space"].get<bool>();
  auto t = from_files((fs::path(dir) / "vocab.json").string(), (fs::path(dir) / "merges.txt").string(), o);
  t->use_roberta_layout();
  t->set_model_max_length(capped_model_max_length(config, position_limit));
  return t;
}

void ByteLevelBpe::use_roberta_layout() {
  for (const char* s : {"<s>", "<pad>", "</s>", "<unk>", "<mask>"})
    if (token_id(s) < 0)
      throw_user_error("vocab", std::string("RoBERTa's special token '") + s + "' is missing");
  special_ = {token_id("<s>"), token_id("</s>"), token_id("<pad>"), token_id("<unk>"), token_id("<mask>")};
  template_ = PairTemplate::roberta;
}

std::vector<std::string> ByteLevelBpe::bpe(const std::string& mapped) const {
  std::vector<std::string> word;
  for (const char32_t c : unicode::decode(mapped)) word.push_back(unicode::encode(c));
  while (word.size() > 1) {
    int best = std::numeric_limits<int>::max();
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < word.size(); ++i) {
      const auto it = ranks_.find({word[i], word[i + 1]});
      if (it != ranks_.end() && it->second < best) best = it->second, at = i;
    }
    if (best == std::numeric_limits<int>::max()) break;
    const std::string a = word[at], b = word[at + 1];
    std::vector<std::string> merged;
    for (std::size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == a && word[i + 1] == b) {
        merged.push_back(a + b);
        i += 2;
      } else {
        merged.push_back(word[i++]);
      }
    }
    word = std::move(merged);
  }
  return word;
}

std::vector<std::string> ByteLevelBpe::tokenize(const std::string& text) const {
  std::vector<std::string> out;
  auto plain = [&](const std::string& part) {
    for (const auto& piece : pre_tokenize(part, options_.pattern)) {
      std::string mapped;
      for (const unsigned char b : piece) mapped += byte_encoder()[b];
      if (options_.ignore_merges && vocab_.count(mapped)) {
        out.push_back(std::move(mapped));
        continue;
      }
      for (auto& p : bpe(mapped)) out.push_back(std::move(p));
    }
  };
  // Special tokens split the text first; <mask> takes the spaces before it (RoBERTa's lstrip).
  std::string rest = options_.add_prefix_space && !text.empty() && text[0] != ' ' ? " " + text : text;
  while (!rest.empty()) {
    std::size_t at = std::string::npos;
    const std::string* which = nullptr;
    for (const auto& t : options_.special_tokens) {
      const auto p = rest.find(t);
      if (p != std::string::npos && (p < at || (p == at && t.size() > which->size()))) at = p, which = &t;
    }
    if (!which) {
      plain(rest);
      break;
    }
    std::string before = rest.substr(0, at);
    if (*which == "<mask>")
      while (!before.empty() && before.back() == ' ') before.pop_back();
    plain(before);
    out.push_back(*which);
    rest = rest.substr(at + which->size());
  }
  return out;
}

std::int64_t ByteLevelBpe::token_id(const std::string& token) const {
  const auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

std::vector<std::int64_t> ByteLevelBpe::to_ids(const std::string& text) const {
  std::vector<std::int64_t> ids;
  for (const auto& piece : tokenize(text)) {
    auto id = token_id(piece);
    if (id < 0) id = special_.unk;
    if (id < 0)
      throw_user_error("tokenizer", "piece '" + piece + "' is not in the vocabulary and there is no <unk>");
    ids.push_back(id);
  }
  return ids;
}

std::string ByteLevelBpe::id_to_token(std::int64_t id) const {
  if (id < 0 || id >= static_cast<std::int64_t>(id_to_piece_.size()))
    throw_user_error("token id", std::to_string(id) + " is outside the vocabulary");
  return id_to_piece_[static_cast<std::size_t>(id)];
}

std::int64_t ByteLevelBpe::vocab_size() const { return static_cast<std::int64_t>(id_to_piece_.size()); }

std::string ByteLevelBpe::decode(const std::vector<std::int64_t>& ids) const {
  std::string out;
  const auto& dec = byte_decoder();
  for (const auto id : ids) {
    const auto piece = id_to_token(id);
    if (std::find(options_.special_tokens.begin(), options_.special_tokens.end(), piece) !=
        options_.special_tokens.end()) {
      out += piece;
      continue;
    }
    for (const char32_t c : unicode::decode(piece)) {
      const auto it = dec.find(unicode::encode(c));
      if (it == dec.end()) throw_user_error("token " + std::to_string(id), "is not byte-level BPE");
      out += static_cast<char>(it->second);
    }
  }
  return out;
}

}  // namespace autopeft::model
