#include "model/tokenizers.h"

#include "model/format/bpe.h"
#include "model/format/tokenizer_json.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/json_file.h"
#include "model/format/wordpiece.h"

namespace autopeft::model {

namespace fs = std::filesystem;

FairseqLayout FairseqLayout::xlm_roberta() { return FairseqLayout{}; }

FairseqLayout FairseqLayout::camembert() {
  FairseqLayout l;
  l.offset = 4;
  l.fixed = {{"<s>NOTUSED", 0}, {"<pad>", 1}, {"</s>NOTUSED", 2}, {"<unk>", 3}};
  return l;
}

FairseqLayout FairseqLayout::none() {
  FairseqLayout l;
  l.offset = 0;
  l.fixed = {};
  l.passthrough = true;
  return l;
}

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_file, const FairseqLayout& layout)
    : spm_(model_file), layout_(layout) {
  set_specials();
}

SentencePieceTokenizer::SentencePieceTokenizer(const SentencePieceSpec& spec, const std::string& source)
    : spm_(spec, source), layout_(FairseqLayout::none()) {
  for (const char* t : {"<s>", "</s>", "<pad>", "<mask>"})
    if (spm_.piece_to_id(t) == spm_.unk_id())
      throw_user_error(source, std::string("XLM-R's special token '") + t + "' is not in the vocabulary");
  set_specials();
}

void SentencePieceTokenizer::set_specials() {
  template_ = PairTemplate::roberta;
  special_.unk = token_to_id("<unk>");
  special_.pad = token_to_id("<pad>");
  special_.cls = token_to_id("<s>");
  special_.sep = token_to_id("</s>");
  special_.mask = token_to_id("<mask>");
}

std::int64_t SentencePieceTokenizer::token_to_id(const std::string& token) const {
  if (layout_.passthrough) return spm_.piece_to_id(token);
  for (const auto& [t, id] : layout_.fixed)
    if (t == token) return id;
  if (token == "<mask>") return spm_.vocab_size() + layout_.offset;
  const auto piece = spm_.piece_to_id(token);
  // sentencepiece's id 0 is its <unk>: fairseq's <unk> (3).
  return piece == 0 ? 3 : piece + layout_.offset;
}

std::vector<std::string> SentencePieceTokenizer::tokenize(const std::string& text) const {
  return spm_.encode_pieces(text);
}

std::vector<std::int64_t> SentencePieceTokenizer::to_ids(const std::string& text) const {
  std::vector<std::int64_t> out;
  for (auto id : spm_.encode(text))
    out.push_back(layout_.passthrough ? id : id == 0 ? 3 : id + layout_.offset);
  return out;
}

std::string SentencePieceTokenizer::id_to_token(std::int64_t id) const {
  if (layout_.passthrough) {
    if (id < 0 || id >= spm_.vocab_size())
      throw_user_error("token id", std::to_string(id) + " is outside the vocabulary");
    return spm_.id_to_piece(static_cast<int>(id));
  }
  for (const auto& [t, fixed] : layout_.fixed)
    if (fixed == id) return t;
  if (id == spm_.vocab_size() + layout_.offset) return "<mask>";
  return spm_.id_to_piece(static_cast<int>(id - layout_.offset));
}

std::int64_t SentencePieceTokenizer::vocab_size() const {
  return layout_.passthrough ? spm_.vocab_size() : spm_.vocab_size() + layout_.offset + 1;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir, const EncoderConfig& config) {
  const auto limit = config.max_tokens();
  if (config.model_type == "bert") {
    if (!fs::exists(fs::path(dir) / "vocab.txt") && fs::exists(fs::path(dir) / "tokenizer.json")) {
      auto t = wordpiece_from_tokenizer_json((fs::path(dir) / "tokenizer.json").string());
      t->set_model_max_length(tokenizer_max_length(dir, config));
      return t;
    }
    if (!fs::exists(fs::path(dir) / "vocab.txt"))
      throw_user_error(dir, "a BERT model folder needs vocab.txt (or tokenizer.json) for its tokenizer");
    return WordPieceTokenizer::from_dir(dir, limit);
  }
  if (config.model_type == "xlm-roberta" || config.model_type == "camembert") {
    fs::path model;
    for (const char* name : {"sentencepiece.bpe.model", "tokenizer.model", "spiece.model"})
      if (fs::exists(fs::path(dir) / name)) {
        model = fs::path(dir) / name;
        break;
      }
    const auto json = fs::path(dir) / "tokenizer.json";
    if (model.empty() && fs::exists(json) && tokenizer_json_model_type(json.string()) == "Unigram") {
      auto t =
          std::make_unique<SentencePieceTokenizer>(unigram_from_tokenizer_json(json.string()), json.string());
      t->set_model_max_length(tokenizer_max_length(dir, config));
      return t;
    }
    if (model.empty())
      throw_user_error(dir,
                       "an " + config.model_type +
                           " model folder needs sentencepiece.bpe.model (or a Unigram tokenizer.json) for "
                           "its tokenizer");
    auto t = std::make_unique<SentencePieceTokenizer>(model.string(), config.model_type == "camembert"
                                                                          ? FairseqLayout::camembert()
                                                                          : FairseqLayout::xlm_roberta());
    t->set_model_max_length(tokenizer_max_length(dir, config));
    return t;
  }
  if (config.model_type == "roberta") {
    const bool files = fs::exists(fs::path(dir) / "vocab.json") && fs::exists(fs::path(dir) / "merges.txt");
    if (!files && fs::exists(fs::path(dir) / "tokenizer.json")) {
      auto t = byte_level_bpe_from_tokenizer_json((fs::path(dir) / "tokenizer.json").string());
      t->use_roberta_layout();
      t->set_model_max_length(tokenizer_max_length(dir, config));
      return t;
    }
    for (const char* f : {"vocab.json", "merges.txt"})
      if (!fs::exists(fs::path(dir) / f))
        throw_user_error(
            dir, std::string("a RoBERTa model folder needs ") + f + " for its byte-level BPE tokenizer");
    return ByteLevelBpe::roberta_from_dir(dir, limit);
  }
  throw_user_error(dir, "no tokenizer for model_type '" + config.model_type + "' yet; use --input-ids");
}

}  // namespace autopeft::model
