#include "model/generation_tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/json_file.h"
#include "model/format/bpe.h"
#include "model/format/tokenizer_json.h"
#include "model/spm_library.h"

namespace autopeft::model {

namespace fs = std::filesystem;

namespace {

nlohmann::json tokenizer_config(const std::string& dir) {
  const auto p = fs::path(dir) / "tokenizer_config.json";
  return fs::exists(p) ? read_json_file(p.string(), "tokenizer config") : nlohmann::json::object();
}

bool flag(const nlohmann::json& c, const char* key, bool fallback) {
  return c.contains(key) && c[key].is_boolean() ? c[key].get<bool>() : fallback;
}

// Byte-level BPE (GPT-2; Llama 3's tokenizer.json): a BOS in front when the family has one; decode
// drops the family's BOS / EOS.
class ByteLevelTokenizer : public GenerationTokenizer {
 public:
  ByteLevelTokenizer(std::unique_ptr<ByteLevelBpe> bpe, std::int64_t bos, std::vector<std::int64_t> dropped)
      : bpe_(std::move(bpe)), bos_(bos), dropped_(std::move(dropped)) {}
  std::vector<std::int64_t> encode(const std::string& text) const override {
    auto ids = bpe_->to_ids(text);
    if (bos_ >= 0) ids.insert(ids.begin(), bos_);
    return ids;
  }
  std::vector<std::int64_t> encode_plain(const std::string& text) const override {
    return bpe_->to_ids(text);
  }
  std::string decode(const std::vector<std::int64_t>& ids) const override {
    std::vector<std::int64_t> kept;
    for (auto id : ids)
      if (std::find(dropped_.begin(), dropped_.end(), id) == dropped_.end()) kept.push_back(id);
    return bpe_->decode(kept);
  }

 private:
  std::unique_ptr<ByteLevelBpe> bpe_;
  std::int64_t bos_;
  std::vector<std::int64_t> dropped_;
};

// GPT-2: vocab.json + merges.txt (or a tokenizer.json), no BOS; <|endoftext|> dropped in decode.
std::unique_ptr<GenerationTokenizer> gpt2_tokenizer(const std::string& dir) {
  std::unique_ptr<ByteLevelBpe> bpe;
  const bool files = fs::exists(fs::path(dir) / "vocab.json") && fs::exists(fs::path(dir) / "merges.txt");
  if (!files && fs::exists(fs::path(dir) / "tokenizer.json")) {
    bpe = byte_level_bpe_from_tokenizer_json((fs::path(dir) / "tokenizer.json").string());
  } else {
    for (const char* f : {"vocab.json", "merges.txt"})
      if (!fs::exists(fs::path(dir) / f))
        throw_user_error(
            dir, std::string("a GPT-2 model folder needs ") + f + " for its byte-level BPE tokenizer");
    ByteLevelBpe::Options o;
    const auto vocab = read_json_file((fs::path(dir) / "vocab.json").string(), "vocabulary");
    if (vocab.is_object() && vocab.contains("<|endoftext|>")) o.special_tokens = {"<|endoftext|>"};
    o.add_prefix_space = flag(tokenizer_config(dir), "add_prefix_space", false);
    bpe = ByteLevelBpe::from_files((fs::path(dir) / "vocab.json").string(),
                                   (fs::path(dir) / "merges.txt").string(), o);
  }
  const auto eot = bpe->token_id("<|endoftext|>");
  return std::make_unique<ByteLevelTokenizer>(std::move(bpe), -1, std::vector<std::int64_t>{eot});
}

// A sentencepiece model used with its own ids: BOS in front and EOS behind when asked.
class SentencePieceGenerationTokenizer : public GenerationTokenizer {
 public:
  SentencePieceGenerationTokenizer(const std::string& model_file, bool add_bos, bool add_eos)
      : spm_(model_file), add_bos_(add_bos), add_eos_(add_eos) {}
  SentencePieceGenerationTokenizer(const SentencePieceSpec& spec, const std::string& source, bool add_bos,
                                   bool add_eos)
      : spm_(spec, source), add_bos_(add_bos), add_eos_(add_eos) {}
  std::vector<std::int64_t> encode(const std::string& text) const override {
    std::vector<std::int64_t> ids;
    if (add_bos_ && spm_.bos_id() >= 0) ids.push_back(spm_.bos_id());
    for (auto id : spm_.encode(text)) ids.push_back(id);
    if (add_eos_ && spm_.eos_id() >= 0) ids.push_back(spm_.eos_id());
    return ids;
  }
  std::vector<std::int64_t> encode_plain(const std::string& text) const override {
    const auto pieces = spm_.encode(text);
    return {pieces.begin(), pieces.end()};
  }
  std::string decode(const std::vector<std::int64_t>& ids) const override {
    std::vector<std::int32_t> kept;
    for (auto id : ids)
      if (id != spm_.bos_id() && id != spm_.eos_id() && id != spm_.pad_id() && id < spm_.vocab_size())
        kept.push_back(static_cast<std::int32_t>(id));
    return spm_.decode(kept);
  }

 private:
  SentencePieceModel spm_;
  bool add_bos_, add_eos_;
};

std::string sentencepiece_file(const std::string& dir, const char* name, const char* family) {
  const auto p = fs::path(dir) / name;
  if (!fs::exists(p))
    throw_user_error(dir, std::string("a ") + family + " model folder needs " + name +
                              " (sentencepiece) or a sentencepiece-style tokenizer.json for its tokenizer "
                              "(or give --input-ids)");
  return p.string();
}

}  // namespace

std::unique_ptr<GenerationTokenizer> load_causal_lm_tokenizer(const std::string& dir,
                                                              const DecoderConfig& config) {
  if (config.family == DecoderFamily::gpt2) return gpt2_tokenizer(dir);
  const auto c = tokenizer_config(dir);
  const auto json = fs::path(dir) / "tokenizer.json";
  if (!fs::exists(fs::path(dir) / "tokenizer.model") && fs::exists(json) &&
      tokenizer_json_model_type(json.string()) == "BPE" && !is_sentencepiece_bpe(json.string())) {
    // Llama 3: byte-level BPE; BOS (<|begin_of_text|>) from config.json, in front unless
    // tokenizer_config.json says add_bos_token false.
    auto dropped = config.eos_token_ids;
    if (config.bos_token_id >= 0) dropped.push_back(config.bos_token_id);
    return std::make_unique<ByteLevelTokenizer>(byte_level_bpe_from_tokenizer_json(json.string()),
                                                flag(c, "add_bos_token", true) ? config.bos_token_id : -1,
                                                std::move(dropped));
  }
  if (!fs::exists(fs::path(dir) / "tokenizer.model") && fs::exists(json) &&
      is_sentencepiece_bpe(json.string()))  // sentencepiece runs the BPE model it was converted from
    return std::make_unique<SentencePieceGenerationTokenizer>(
        sentencepiece_bpe_from_tokenizer_json(json.string()), json.string(), flag(c, "add_bos_token", true),
        flag(c, "add_eos_token", false));
  return std::make_unique<SentencePieceGenerationTokenizer>(
      sentencepiece_file(dir, "tokenizer.model", "Llama"), flag(c, "add_bos_token", true),
      flag(c, "add_eos_token", false));
}

std::unique_ptr<GenerationTokenizer> load_t5_tokenizer(const std::string& dir, const T5Config&) {
  // T5's vocabulary is the sentencepiece pieces, then the <extra_id_N> sentinels (never produced
  // by encode; dropped by decode) and padding up to vocab_size.
  const auto json = fs::path(dir) / "tokenizer.json";
  if (!fs::exists(fs::path(dir) / "spiece.model") && fs::exists(json) &&
      tokenizer_json_model_type(json.string()) == "Unigram")  // sentencepiece runs the model it describes
    return std::make_unique<SentencePieceGenerationTokenizer>(unigram_from_tokenizer_json(json.string()),
                                                              json.string(), false, true);
  return std::make_unique<SentencePieceGenerationTokenizer>(sentencepiece_file(dir, "spiece.model", "T5"),
                                                            false, true);
}

}  // namespace autopeft::model
