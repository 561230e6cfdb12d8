#pragma once
// config.json of a T5 encoder-decoder (v1.0: ReLU FFN, tied head; v1.1 / mT5 / Flan-T5:
// gated-GELU FFN, untied head), validated. Torch-free. transformers' defaults where a key is
// absent; errors name the file and the key.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace autopeft::model {

struct T5Config {
  std::string model_type = "t5";
  std::int64_t vocab_size = 32128;
  std::int64_t d_model = 512;
  std::int64_t d_kv = 64;  // per head; inner size = num_heads * d_kv (need not equal d_model)
  std::int64_t d_ff = 2048;
  std::int64_t num_layers = 6;          // encoder blocks
  std::int64_t num_decoder_layers = 6;  // default: num_layers
  std::int64_t num_heads = 8;
  std::int64_t relative_attention_num_buckets = 32;
  std::int64_t relative_attention_max_distance = 128;
  double dropout = 0.1;  // dropout_rate
  double layer_norm_eps = 1e-6;
  bool gated = false;               // feed_forward_proj "gated-<act>"
  std::string activation = "relu";  // "relu" or, gated, "gelu_new" for "gated-gelu"
  bool tie_word_embeddings = true;  // the LM head is the shared embedding table
  // The decoder output is scaled by d_model^-0.5 before the LM head: config.json's
  // scale_decoder_outputs (transformers 5, which writes tie_word_embeddings true for T5 v1.1 too),
  // else tie_word_embeddings (transformers 4: v1.0 tied and scaled, v1.1 neither).
  bool scale_decoder_outputs = true;
  std::int64_t pad_token_id = 0;
  std::int64_t eos_token_id = 1;
  std::int64_t decoder_start_token_id = 0;

  std::int64_t inner_dim() const { return num_heads * d_kv; }
};

bool is_t5_model_type(const std::string& model_type);  // "t5", "mt5"
T5Config parse_t5_config(const nlohmann::json& config, const std::string& source);
T5Config load_t5_config(const std::string& dir_or_file);

// T5's relative-position bucket of (key position - query position): bidirectional (encoder)
// halves the buckets by sign; exact buckets below half of them, logarithmic ones up to
// max_distance, the last bucket beyond. Torch-free, for tables and tests.
std::int64_t t5_relative_position_bucket(std::int64_t relative_position, bool bidirectional,
                                         std::int64_t num_buckets, std::int64_t max_distance);

}  // namespace autopeft::model
