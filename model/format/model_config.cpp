#include "model/format/model_config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/json_file.h"
#include "model/format/config_keys.h"

namespace autopeft::model {

using namespace config_keys;

namespace {

const std::vector<std::string> kSupported = {"bert", "roberta", "xlm-roberta", "camembert"};
const std::vector<std::string> kActivations = {"gelu", "gelu_new", "gelu_pytorch_tanh",
                                               "relu", "silu",     "swish"};

}  // namespace

const std::vector<std::string>& supported_model_types() { return kSupported; }

std::int64_t EncoderConfig::max_tokens() const {
  return family == EncoderFamily::roberta ? max_position_embeddings - pad_token_id - 1
                                          : max_position_embeddings;
}

std::int64_t capped_model_max_length(const nlohmann::json& c, std::int64_t position_limit) {
  if (c.is_object() && c.contains("model_max_length") && c["model_max_length"].is_number()) {
    const double m = c["model_max_length"].get<double>();
    if (m >= 1 && m < 1e6) return std::min<std::int64_t>(static_cast<std::int64_t>(m), position_limit);
  }
  return position_limit;
}

std::int64_t tokenizer_max_length(const std::string& dir, const EncoderConfig& config) {
  const auto p = std::filesystem::path(dir) / "tokenizer_config.json";
  if (!std::filesystem::exists(p)) return config.max_tokens();
  return capped_model_max_length(read_json_file(p.string(), "tokenizer config"), config.max_tokens());
}

EncoderConfig parse_encoder_config(const nlohmann::json& c, const std::string& source) {
  if (!c.is_object()) throw_user_error(source, "config must be a JSON object");
  EncoderConfig cfg;
  cfg.model_type = get<std::string>(c, "model_type", source, std::string());
  if (cfg.model_type.empty())
    throw_user_error(source, "missing 'model_type' (supported: " + join(kSupported) + ")");
  if (std::find(kSupported.begin(), kSupported.end(), cfg.model_type) == kSupported.end())
    throw_user_error(source,
                     "unsupported model_type '" + cfg.model_type + "' (supported: " + join(kSupported) + ")");
  const bool bert = cfg.model_type == "bert";
  cfg.family = bert ? EncoderFamily::bert : EncoderFamily::roberta;
  if (c.contains("architectures") && c["architectures"].is_array())
    for (const auto& a : c["architectures"])
      if (a.is_string()) cfg.architectures.push_back(a.get<std::string>());

  cfg.vocab_size = positive(c, "vocab_size", source);
  cfg.hidden_size = positive(c, "hidden_size", source);
  cfg.num_layers = positive(c, "num_hidden_layers", source);
  cfg.num_heads = positive(c, "num_attention_heads", source);
  cfg.intermediate_size = positive(c, "intermediate_size", source);
  if (cfg.hidden_size % cfg.num_heads != 0)
    throw_user_error(source, "hidden_size " + std::to_string(cfg.hidden_size) +
                                 " is not divisible by num_attention_heads " + std::to_string(cfg.num_heads));
  cfg.hidden_act = get<std::string>(c, "hidden_act", source, std::string("gelu"));
  if (std::find(kActivations.begin(), kActivations.end(), cfg.hidden_act) == kActivations.end())
    throw_user_error(
        source, "unsupported hidden_act '" + cfg.hidden_act + "' (supported: " + join(kActivations) + ")");
  cfg.layer_norm_eps = get<double>(c, "layer_norm_eps", source, bert ? 1e-12 : 1e-5);
  if (!(cfg.layer_norm_eps > 0)) throw_user_error(source, "layer_norm_eps must be positive");
  cfg.max_position_embeddings = positive(c, "max_position_embeddings", source, bert ? 512 : 514);
  cfg.type_vocab_size = positive(c, "type_vocab_size", source, bert ? 2 : 1);
  cfg.pad_token_id = get<std::int64_t>(c, "pad_token_id", source, bert ? 0 : 1);
  if (cfg.pad_token_id < 0 || cfg.pad_token_id >= cfg.vocab_size)
    throw_user_error(source,
                     "pad_token_id " + std::to_string(cfg.pad_token_id) + " is outside the vocabulary");
  if (cfg.family == EncoderFamily::roberta && cfg.max_tokens() <= 0)
    throw_user_error(source, "max_position_embeddings leaves no position after the padding offset");
  cfg.hidden_dropout = probability(c, "hidden_dropout_prob", source, 0.1);
  cfg.attention_dropout = probability(c, "attention_probs_dropout_prob", source, 0.1);
  if (c.contains("classifier_dropout") && !c["classifier_dropout"].is_null())
    cfg.classifier_dropout = probability(c, "classifier_dropout", source, 0.1);
  const auto pos_type = get<std::string>(c, "position_embedding_type", source, std::string("absolute"));
  if (pos_type != "absolute")
    throw_user_error(source, "position_embedding_type '" + pos_type + "' is not supported (only 'absolute')");
  cfg.problem_type = get<std::string>(c, "problem_type", source, std::string());

  // Labels: id2label (string keys "0".."n-1"), else num_labels with LABEL_i names.
  if (c.contains("id2label") && c["id2label"].is_object() && !c["id2label"].empty()) {
    const auto& m = c["id2label"];
    cfg.labels.resize(m.size());
    for (auto it = m.begin(); it != m.end(); ++it) {
      std::size_t used = 0;
      long id = -1;
      try {
        id = std::stol(it.key(), &used);
      } catch (const std::exception&) {
      }
      if (used != it.key().size() || id < 0 || static_cast<std::size_t>(id) >= m.size() ||
          !it.value().is_string())
        throw_user_error(source, "id2label must map \"0\"..\"" + std::to_string(m.size() - 1) +
                                     "\" to label names; bad entry \"" + it.key() + "\"");
      cfg.labels[static_cast<std::size_t>(id)] = it.value().get<std::string>();
    }
  } else if (c.contains("num_labels")) {
    const auto n = positive(c, "num_labels", source);
    for (std::int64_t i = 0; i < n; ++i) cfg.labels.push_back("LABEL_" + std::to_string(i));
  }
  return cfg;
}

EncoderConfig load_encoder_config(const std::string& dir_or_file) {
  namespace fs = std::filesystem;
  const fs::path p =
      fs::is_directory(dir_or_file) ? fs::path(dir_or_file) / "config.json" : fs::path(dir_or_file);
  const nlohmann::json c = read_json_file(p.string(), "config (a model folder needs config.json)");
  return parse_encoder_config(c, p.string());
}

}  // namespace autopeft::model
