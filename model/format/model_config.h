#pragma once
// config.json of a Hugging Face model folder, validated, for the encoder families
// (BERT, RoBERTa, XLM-R, CamemBERT). Torch-free. Defaults are transformers' where a key is
// absent; a missing required key, a wrong type or an unsupported value is a UserError naming
// the file and the key.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace autopeft::model {

// BERT: absolute positions from 0, token types. RoBERTa (also XLM-R, CamemBERT): positions
// start after the padding index (pad_token_id + 1) and skip padding; keys under "roberta.".
enum class EncoderFamily { bert, roberta };

struct EncoderConfig {
  std::string model_type;  // as written in config.json ("bert", "xlm-roberta", ...)
  EncoderFamily family = EncoderFamily::bert;
  std::vector<std::string> architectures;  // e.g. "BertForSequenceClassification"
  std::int64_t vocab_size = 0;             // required
  std::int64_t hidden_size = 0;            // required
  std::int64_t num_layers = 0;             // num_hidden_layers, required
  std::int64_t num_heads = 0;              // num_attention_heads, required; divides hidden_size
  std::int64_t intermediate_size = 0;      // required
  std::string hidden_act = "gelu";  // gelu (exact, erf), gelu_new / gelu_pytorch_tanh, relu, silu/swish
  double layer_norm_eps = 1e-12;
  std::int64_t max_position_embeddings = 512;
  std::int64_t type_vocab_size = 2;
  std::int64_t pad_token_id = 0;
  double hidden_dropout = 0.1;               // hidden_dropout_prob
  double attention_dropout = 0.1;            // attention_probs_dropout_prob
  std::optional<double> classifier_dropout;  // null: hidden_dropout, as transformers does
  std::vector<std::string> labels;           // id2label in id order (num_labels entries)
  std::string problem_type;                  // "regression", "single_label_classification", ... or ""

  std::int64_t head_dim() const { return hidden_size / num_heads; }
  std::int64_t num_labels() const { return static_cast<std::int64_t>(labels.size()); }
  // Key prefix of the backbone inside task models: "bert." or "roberta.".
  std::string base_prefix() const { return family == EncoderFamily::bert ? "bert." : "roberta."; }
  // The largest number of tokens the position table allows (RoBERTa loses pad_token_id + 1).
  std::int64_t max_tokens() const;
};

// The longest input in tokens: the position limit, lowered by tokenizer_config.json's
// model_max_length where that is a real limit (transformers writes 1e30 for "none").
std::int64_t capped_model_max_length(const nlohmann::json& tokenizer_config, std::int64_t position_limit);
// The same from a model folder (DIR/tokenizer_config.json, when there is one).
std::int64_t tokenizer_max_length(const std::string& dir, const EncoderConfig& config);

// The model_type values we load.
const std::vector<std::string>& supported_model_types();

EncoderConfig parse_encoder_config(const nlohmann::json& config, const std::string& source);
// Reads DIR/config.json (or the file itself when given a file).
EncoderConfig load_encoder_config(const std::string& dir_or_file);

}  // namespace autopeft::model
