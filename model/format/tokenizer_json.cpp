#include "model/format/tokenizer_json.h"

#include <map>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/json_file.h"

namespace autopeft::model {

namespace {

nlohmann::json read(const std::string& path) {
  auto j = read_json_file(path, "tokenizer.json");
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    throw_user_error(path, "not a tokenizer.json (no \"model\" object)");
  return j;
}

std::string type_of(const nlohmann::json& part) {
  return part.is_object() && part.contains("type") && part["type"].is_string()
             ? part["type"].get<std::string>()
             : std::string();
}

[[noreturn]] void unsupported(const std::string& path, const std::string& what) {
  throw_user_error(path, what +
                             " is not supported in tokenizer.json; give the tokenizer's own files "
                             "(vocab.txt, vocab.json + merges.txt, or a sentencepiece .model) instead");
}

bool flag(const nlohmann::json& o, const char* key, bool fallback, const std::string& path) {
  if (!o.contains(key) || o[key].is_null()) return fallback;
  if (!o[key].is_boolean()) throw_user_error(path, std::string("'") + key + "' must be true or false");
  return o[key].get<bool>();
}

const std::string kMeta = "\xe2\x96\x81";  // U+2581, sentencepiece's whitespace

// A normalizer / pre_tokenizer / decoder as its list of steps: a "Sequence" gives its items
// (listed under `items`: "normalizers", "pretokenizers" or "decoders"), null gives none and
// anything else is the one step.
std::vector<nlohmann::json> steps(const nlohmann::json& part, const char* items) {
  std::vector<nlohmann::json> out;
  if (part.is_null()) return out;
  if (type_of(part) == "Sequence")
    for (const auto& x : part.value(items, nlohmann::json::array())) out.push_back(x);
  else
    out.push_back(part);
  return out;
}

// A Metaspace step: whether it prepends U+2581 to the text (prepend_scheme, or the older
// add_prefix_space). Its replacement must be U+2581; `not_u2581` is the complaint otherwise.
bool metaspace_prepends(const nlohmann::json& x, const std::string& path, const std::string& not_u2581) {
  if (x.value("replacement", kMeta) != kMeta) unsupported(path, not_u2581);
  const auto scheme = x.value("prepend_scheme", std::string());
  return scheme.empty() ? flag(x, "add_prefix_space", true, path) : scheme != "never";
}

// The added tokens: {content, id, special}.
struct Added {
  std::string content;
  std::int64_t id;
  bool special;
};
std::vector<Added> added_tokens(const nlohmann::json& j, const std::string& path) {
  std::vector<Added> out;
  if (!j.contains("added_tokens") || j["added_tokens"].is_null()) return out;
  for (const auto& t : j["added_tokens"]) {
    if (!t.is_object() || !t.contains("content") || !t.contains("id") || !t["id"].is_number_integer())
      throw_user_error(path, "added_tokens entries need \"content\" and an integer \"id\"");
    out.push_back(
        {t["content"].get<std::string>(), t["id"].get<std::int64_t>(), flag(t, "special", false, path)});
  }
  return out;
}

std::string base64_decode(const std::string& in, const std::string& where) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : in) {
    if (c == '=') break;
    const auto v = alphabet.find(c);
    if (v == std::string::npos) throw_user_error(where, "not base64");
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace

SentencePieceSpec unigram_from_tokenizer_json(const std::string& path) {
  const auto j = read(path);
  const auto& m = j["model"];
  if (type_of(m) != "Unigram") throw_user_error(path, "model type '" + type_of(m) + "' is not Unigram");
  SentencePieceSpec spec;
  spec.byte_fallback = flag(m, "byte_fallback", false, path);
  if (!m.contains("vocab") || !m["vocab"].is_array()) throw_user_error(path, "model.vocab must be a list");
  for (const auto& e : m["vocab"]) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      throw_user_error(path, "model.vocab entries must be [piece, score]");
    SentencePieceSpec::Piece p;
    p.text = e[0].get<std::string>();
    p.score = e[1].get<float>();
    if (spec.byte_fallback && p.text.size() == 6 && p.text.rfind("<0x", 0) == 0 && p.text.back() == '>')
      p.type = SentencePieceSpec::Type::byte;
    spec.pieces.push_back(p);
  }
  const auto n = static_cast<std::int64_t>(spec.pieces.size());
  if (!m.contains("unk_id") || !m["unk_id"].is_number_integer())
    throw_user_error(path, "model.unk_id is required (sentencepiece needs an unknown piece)");
  spec.unk_id = m["unk_id"].get<std::int32_t>();
  if (spec.unk_id < 0 || spec.unk_id >= n) throw_user_error(path, "model.unk_id is outside the vocabulary");
  spec.pieces[static_cast<std::size_t>(spec.unk_id)].type = SentencePieceSpec::Type::unknown;
  for (const auto& a : added_tokens(j, path)) {
    if (a.id < 0 || a.id >= n)
      throw_user_error(path, "added token '" + a.content + "' is outside the vocabulary");
    if (a.id == spec.unk_id) continue;
    auto& p = spec.pieces[static_cast<std::size_t>(a.id)];
    if (p.text != a.content)
      throw_user_error(path, "added token '" + a.content + "' is not piece " + std::to_string(a.id));
    p.type = a.special ? SentencePieceSpec::Type::control : SentencePieceSpec::Type::user_defined;
    if (a.content == "</s>") spec.eos_id = static_cast<std::int32_t>(a.id);
    if (a.content == "<s>") spec.bos_id = static_cast<std::int32_t>(a.id);
    if (a.content == "<pad>") spec.pad_id = static_cast<std::int32_t>(a.id);
  }
  // The normaliser.
  spec.remove_extra_whitespaces = false;
  const auto normalizers = steps(j.value("normalizer", nlohmann::json()), "normalizers");
  for (std::size_t i = 0; i < normalizers.size(); ++i) {
    const auto& x = normalizers[i];
    const auto t = type_of(x);
    const bool literal = t == "Replace" && x.contains("pattern") && x["pattern"].is_object() &&
                         x["pattern"].contains("String") && x["pattern"]["String"].is_string() &&
                         x.contains("content") && x["content"].is_string();
    if (literal && !spec.nmt_nfkc && spec.precompiled_charsmap.empty() &&
        !x["pattern"]["String"].get<std::string>().empty()) {
      // Before the table: made on the text before sentencepiece (which then applies its table).
      spec.replacements.emplace_back(x["pattern"]["String"].get<std::string>(),
                                     x["content"].get<std::string>());
    } else if (t == "Nmt" && i + 1 < normalizers.size() && type_of(normalizers[i + 1]) == "NFKC") {
      spec.nmt_nfkc = true;  // what tokenizers' SentencePieceUnigramTokenizer writes
      ++i;
    } else if (t == "Precompiled") {
      spec.precompiled_charsmap =
          base64_decode(x.value("precompiled_charsmap", std::string()), path + ": precompiled_charsmap");
      spec.normalizer_name = spec.precompiled_charsmap.empty() ? "identity" : "precompiled";
    } else if (t == "Replace" && x.contains("pattern") && x["pattern"].is_object() &&
               x["pattern"].value("Regex", std::string()) == " {2,}" &&
               x.value("content", std::string()) == " ") {
      spec.remove_extra_whitespaces = true;
    } else {
      unsupported(path, "the normalizer " + x.dump());
    }
  }
  // The pre-tokeniser: Metaspace, after a WhitespaceSplit or alone.
  bool metaspace = false;
  for (const auto& x : steps(j.value("pre_tokenizer", nlohmann::json()), "pretokenizers")) {
    const auto t = type_of(x);
    if (t == "WhitespaceSplit") {
      spec.remove_extra_whitespaces = true;
    } else if (t == "Metaspace") {
      spec.add_dummy_prefix = metaspace_prepends(x, path, "a Metaspace replacement other than U+2581");
      if (x.value("split", true) == false) unsupported(path, "a Metaspace pre-tokenizer with split false");
      metaspace = true;
    } else {
      unsupported(path, "the pre_tokenizer " + x.dump());
    }
  }
  if (!metaspace) unsupported(path, "a Unigram model without a Metaspace pre_tokenizer");
  return spec;
}

namespace {

// sentencepiece's whitespace handling as a tokenizer.json writes it: a Prepend("▁") +
// Replace(" ", "▁") normaliser (transformers' legacy Llama conversion) or a Metaspace
// pre-tokeniser. Sets add_dummy_prefix; false when neither is there.
bool sentencepiece_whitespace(const nlohmann::json& j, SentencePieceSpec& spec, const std::string& path) {
  bool prepend = false, replace = false, metaspace = false;
  for (const auto& x : steps(j.value("normalizer", nlohmann::json()), "normalizers")) {
    const auto t = type_of(x);
    if (t == "Prepend" && x.value("prepend", std::string()) == kMeta) {
      prepend = true;
    } else if (t == "Replace" && x.contains("pattern") && x["pattern"].is_object() &&
               x["pattern"].value("String", std::string()) == " " &&
               x.value("content", std::string()) == kMeta) {
      replace = true;
    } else {
      unsupported(path, "the normalizer " + x.dump());
    }
  }
  for (const auto& x : steps(j.value("pre_tokenizer", nlohmann::json()), "pretokenizers")) {
    const auto not_metaspace = "the pre_tokenizer " + x.dump();
    if (type_of(x) != "Metaspace") unsupported(path, not_metaspace);
    prepend = metaspace_prepends(x, path, not_metaspace);
    metaspace = true;
  }
  spec.add_dummy_prefix = prepend;
  return replace || metaspace;
}

}  // namespace

bool is_sentencepiece_bpe(const std::string& path) {
  const auto j = read(path);
  const auto& m = j["model"];
  if (!type_of(m).empty() && type_of(m) != "BPE") return false;
  if (flag(m, "byte_fallback", false, path)) return true;
  const auto dump =
      j.value("normalizer", nlohmann::json()).dump() + j.value("pre_tokenizer", nlohmann::json()).dump();
  return dump.find(kMeta) != std::string::npos;
}

SentencePieceSpec sentencepiece_bpe_from_tokenizer_json(const std::string& path) {
  const auto j = read(path);
  const auto& m = j["model"];
  if (!type_of(m).empty() && type_of(m) != "BPE")
    throw_user_error(path, "model type '" + type_of(m) + "' is not BPE");
  SentencePieceSpec spec;
  spec.model_type = 2;
  spec.normalizer_name = "identity";
  spec.remove_extra_whitespaces = false;
  spec.byte_fallback = flag(m, "byte_fallback", false, path);
  if (!sentencepiece_whitespace(j, spec, path))
    unsupported(path, "a BPE model without sentencepiece's whitespace (Metaspace or Replace ' ' by U+2581)");
  if (!m.contains("vocab") || !m["vocab"].is_object())
    throw_user_error(path, "model.vocab must be an object");
  std::map<std::string, std::int64_t> ids;
  for (const auto& [piece, id] : m["vocab"].items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0)
      throw_user_error(path, "the id of '" + piece + "' is not a non-negative integer");
    ids[piece] = id.get<std::int64_t>();
  }
  spec.pieces.resize(ids.size());
  for (const auto& [piece, id] : ids) {
    if (static_cast<std::size_t>(id) >= spec.pieces.size() ||
        !spec.pieces[static_cast<std::size_t>(id)].text.empty())
      throw_user_error(path, "model.vocab ids must be 0.." + std::to_string(ids.size() - 1) + " once each");
    auto& p = spec.pieces[static_cast<std::size_t>(id)];
    p.text = piece;
    p.score = 0;
    if (spec.byte_fallback && piece.size() == 6 && piece.rfind("<0x", 0) == 0 && piece.back() == '>')
      p.type = SentencePieceSpec::Type::byte;
  }
  // sentencepiece's BPE merges the adjacent pair whose joined piece scores highest; the merges'
  // order is that ranking (transformers' converter lists them by the joined piece's score), so
  // a piece made by the merge of rank r scores -r, and pieces no merge makes score below them all.
  const auto merges = m.value("merges", nlohmann::json::array());
  const auto unmerged = -static_cast<float>(merges.size()) - 1;
  for (auto& p : spec.pieces) p.score = unmerged;
  std::vector<bool> scored(spec.pieces.size(), false);
  for (std::size_t r = 0; r < merges.size(); ++r) {
    std::string a, b;
    if (merges[r].is_string()) {
      const auto text = merges[r].get<std::string>();
      const auto space = text.find(' ');
      if (space == std::string::npos) throw_user_error(path, "merge '" + text + "' is not 'a b'");
      a = text.substr(0, space);
      b = text.substr(space + 1);
    } else if (merges[r].is_array() && merges[r].size() == 2) {
      a = merges[r][0].get<std::string>();
      b = merges[r][1].get<std::string>();
    } else {
      throw_user_error(path, "merges entries must be 'a b' or [a, b]");
    }
    const auto it = ids.find(a + b);
    if (it == ids.end())
      throw_user_error(path, "merge '" + a + " " + b + "' makes a piece not in the vocabulary");
    const auto id = static_cast<std::size_t>(it->second);
    if (!scored[id]) spec.pieces[id].score = -static_cast<float>(r);
    scored[id] = true;
  }
  const auto unk = m.value("unk_token", nlohmann::json());
  if (!unk.is_string() || !ids.count(unk.get<std::string>()))
    throw_user_error(path, "model.unk_token must name a piece (sentencepiece needs an unknown piece)");
  spec.unk_id = static_cast<std::int32_t>(ids[unk.get<std::string>()]);
  spec.pieces[static_cast<std::size_t>(spec.unk_id)].type = SentencePieceSpec::Type::unknown;
  for (const auto& a : added_tokens(j, path)) {
    if (a.id < 0 || static_cast<std::size_t>(a.id) >= spec.pieces.size() || a.id == spec.unk_id) continue;
    spec.pieces[static_cast<std::size_t>(a.id)].type =
        a.special ? SentencePieceSpec::Type::control : SentencePieceSpec::Type::user_defined;
    if (a.content == "<s>") spec.bos_id = static_cast<std::int32_t>(a.id);
    if (a.content == "</s>") spec.eos_id = static_cast<std::int32_t>(a.id);
  }
  return spec;
}

std::string tokenizer_json_model_type(const std::string& path) {
  const auto type = type_of(read(path)["model"]);
  return type.empty() ? "BPE" : type;  // tokenizers omits "type" for BPE in old files
}

std::unique_ptr<WordPieceTokenizer> wordpiece_from_tokenizer_json(const std::string& path) {
  const auto j = read(path);
  const auto& m = j["model"];
  if (type_of(m) != "WordPiece") unsupported(path, "model type '" + type_of(m) + "' (here: WordPiece)");
  if (m.value("unk_token", std::string("[UNK]")) != "[UNK]")
    unsupported(path, "a WordPiece unk_token other than [UNK]");
  if (m.value("continuing_subword_prefix", std::string("##")) != "##")
    unsupported(path, "a continuing_subword_prefix other than ##");
  WordPieceOptions o;
  if (m.contains("max_input_chars_per_word") && m["max_input_chars_per_word"].is_number_integer())
    o.max_chars_per_word = m["max_input_chars_per_word"].get<std::size_t>();
  const auto& n = j.contains("normalizer") ? j["normalizer"] : nlohmann::json();
  if (type_of(n) != "BertNormalizer")
    unsupported(path, "normalizer '" + type_of(n) + "' (WordPiece needs BertNormalizer)");
  if (!flag(n, "clean_text", true, path)) unsupported(path, "BertNormalizer with clean_text false");
  o.do_lower_case = flag(n, "lowercase", true, path);
  o.tokenize_chinese_chars = flag(n, "handle_chinese_chars", true, path);
  if (n.contains("strip_accents") && !n["strip_accents"].is_null())
    o.strip_accents = flag(n, "strip_accents", false, path);
  const auto& p = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : nlohmann::json();
  if (type_of(p) != "BertPreTokenizer")
    unsupported(path, "pre_tokenizer '" + type_of(p) + "' with WordPiece");
  if (!m.contains("vocab") || !m["vocab"].is_object())
    throw_user_error(path, "model.vocab must be an object");
  std::vector<std::string> tokens(m["vocab"].size());
  auto place = [&](const std::string& token, std::int64_t id) {
    if (id < 0) throw_user_error(path, "negative id for '" + token + "'");
    if (static_cast<std::size_t>(id) >= tokens.size()) tokens.resize(static_cast<std::size_t>(id) + 1);
    auto& slot = tokens[static_cast<std::size_t>(id)];
    if (!slot.empty() && slot != token)
      throw_user_error(path, "id " + std::to_string(id) + " names both '" + slot + "' and '" + token + "'");
    slot = token;
  };
  for (const auto& [token, id] : m["vocab"].items()) {
    if (!id.is_number_integer()) throw_user_error(path, "the id of '" + token + "' is not an integer");
    place(token, id.get<std::int64_t>());
  }
  for (const auto& a : added_tokens(j, path)) place(a.content, a.id);
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i].empty()) throw_user_error(path, "no token has id " + std::to_string(i));
  return std::make_unique<WordPieceTokenizer>(std::move(tokens), o, path);
}

std::unique_ptr<ByteLevelBpe> byte_level_bpe_from_tokenizer_json(const std::string& path) {
  const auto j = read(path);
  const auto& m = j["model"];
  if (!type_of(m).empty() && type_of(m) != "BPE")
    unsupported(path, "model type '" + type_of(m) + "' (here: BPE)");
  if (m.contains("byte_fallback") && flag(m, "byte_fallback", false, path))
    unsupported(path, "BPE byte_fallback");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (m.contains(key) && m[key].is_string() && !m[key].get<std::string>().empty())
      unsupported(path, std::string("BPE ") + key);
  if (m.contains("dropout") && !m["dropout"].is_null() && m["dropout"].get<double>() != 0.0)
    unsupported(path, "BPE dropout");
  if (j.contains("normalizer") && !j["normalizer"].is_null())
    unsupported(path, "normalizer '" + type_of(j["normalizer"]) + "' with byte-level BPE");
  // The pre-tokenizer: ByteLevel with GPT-2's regex, alone or as the only step of a Sequence; or
  // Llama 3's: a Split with its pattern (isolated matches), then ByteLevel without a regex.
  ByteLevelBpe::Options o;
  auto p = j.value("pre_tokenizer", nlohmann::json());
  const auto parts = steps(p, "pretokenizers");
  if (parts.size() == 2 && type_of(parts[0]) == "Split") {
    static const std::string llama3 =
        R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
    const auto& split = parts[0];
    const auto pattern = split.contains("pattern") && split["pattern"].is_object()
                             ? split["pattern"].value("Regex", std::string())
                             : std::string();
    if (pattern != llama3)
      unsupported(path, "the Split pattern " + split.value("pattern", nlohmann::json()).dump() +
                            " (Llama 3's is the one supported)");
    if (split.value("behavior", std::string()) != "Isolated" || flag(split, "invert", false, path))
      unsupported(path, "a Split other than behavior Isolated, invert false");
    o.pattern = ByteLevelBpe::Pattern::llama3;
    p = parts[1];
    if (type_of(p) != "ByteLevel" || flag(p, "use_regex", true, path))
      unsupported(path, "a Split followed by " + p.dump() + " (expected ByteLevel with use_regex false)");
  } else {
    if (parts.size() == 1) p = parts[0];
    if (type_of(p) != "ByteLevel")
      unsupported(path, "pre_tokenizer '" + (type_of(p).empty() ? std::string("none") : type_of(p)) +
                            "' (byte-level BPE needs ByteLevel with GPT-2's pattern, or Llama 3's Split)");
    if (!flag(p, "use_regex", true, path)) unsupported(path, "ByteLevel with use_regex false");
  }
  o.add_prefix_space = flag(p, "add_prefix_space", false, path);
  o.ignore_merges = m.contains("ignore_merges") && flag(m, "ignore_merges", false, path);
  if (!m.contains("vocab") || !m["vocab"].is_object())
    throw_user_error(path, "model.vocab must be an object");
  std::unordered_map<std::string, std::int64_t> vocab;
  for (const auto& [piece, id] : m["vocab"].items()) {
    if (!id.is_number_integer()) throw_user_error(path, "the id of '" + piece + "' is not an integer");
    vocab[piece] = id.get<std::int64_t>();
  }
  std::vector<std::pair<std::string, std::string>> merges;
  if (m.contains("merges"))
    for (const auto& e : m["merges"]) {
      if (e.is_string()) {
        const auto s = e.get<std::string>();
        const auto space = s.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 >= s.size() ||
            s.find(' ', space + 1) != std::string::npos)
          throw_user_error(path, "merge \"" + s + "\": expected two pieces separated by one space");
        merges.emplace_back(s.substr(0, space), s.substr(space + 1));
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      } else {
        throw_user_error(path, "merges must be \"a b\" strings or [\"a\", \"b\"] pairs, got " + e.dump());
      }
    }
  for (const auto& a : added_tokens(j, path)) {
    vocab.emplace(a.content, a.id);
    if (a.special) o.special_tokens.push_back(a.content);
  }
  return std::make_unique<ByteLevelBpe>(std::move(vocab), std::move(merges), std::move(o));
}

}  // namespace autopeft::model
