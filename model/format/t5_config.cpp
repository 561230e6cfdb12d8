#include "model/format/t5_config.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/json_file.h"
#include "model/format/config_keys.h"

namespace autopeft::model {

using namespace config_keys;

bool is_t5_model_type(const std::string& model_type) { return model_type == "t5" || model_type == "mt5"; }

T5Config parse_t5_config(const nlohmann::json& c, const std::string& source) {
  if (!c.is_object()) throw_user_error(source, "config must be a JSON object");
  T5Config cfg;
  cfg.model_type = get<std::string>(c, "model_type", source, std::string());
  if (!is_t5_model_type(cfg.model_type))
    throw_user_error(source, "model_type '" + cfg.model_type + "' is not a T5 (t5, mt5)");
  cfg.vocab_size = positive(c, "vocab_size", source, 32128);
  cfg.d_model = positive(c, "d_model", source, 512);
  cfg.d_kv = positive(c, "d_kv", source, 64);
  cfg.d_ff = positive(c, "d_ff", source, 2048);
  cfg.num_layers = positive(c, "num_layers", source, 6);
  cfg.num_decoder_layers = positive(c, "num_decoder_layers", source, cfg.num_layers);
  cfg.num_heads = positive(c, "num_heads", source, 8);
  cfg.relative_attention_num_buckets = positive(c, "relative_attention_num_buckets", source, 32);
  cfg.relative_attention_max_distance = positive(c, "relative_attention_max_distance", source, 128);
  if (cfg.relative_attention_num_buckets < 4)
    throw_user_error(source, "relative_attention_num_buckets must be at least 4");
  cfg.dropout = probability(c, "dropout_rate", source, 0.1);
  cfg.layer_norm_eps = get<double>(c, "layer_norm_epsilon", source, 1e-6);
  if (!(cfg.layer_norm_eps > 0)) throw_user_error(source, "layer_norm_epsilon must be positive");
  // feed_forward_proj: "relu", "gated-gelu" (v1.1: GELU in its tanh form, as transformers maps
  // it), or "[gated-]<activation>".
  const auto proj = get<std::string>(c, "feed_forward_proj", source, std::string("relu"));
  cfg.gated = proj.rfind("gated-", 0) == 0;
  auto act = cfg.gated ? proj.substr(6) : proj;
  if (proj == "gated-gelu") act = "gelu_new";
  const char* acts[] = {"relu", "gelu", "gelu_new", "gelu_pytorch_tanh", "silu", "swish"};
  bool known = false;
  for (const char* a : acts) known = known || act == a;
  if (!known || (proj.find('-') != std::string::npos && !cfg.gated))
    throw_user_error(source,
                     "unsupported feed_forward_proj '" + proj + "' (relu, gated-gelu, [gated-]<activation>)");
  cfg.activation = act;
  cfg.tie_word_embeddings = get<bool>(c, "tie_word_embeddings", source, true);
  cfg.scale_decoder_outputs = get<bool>(c, "scale_decoder_outputs", source, cfg.tie_word_embeddings);
  cfg.pad_token_id = get<std::int64_t>(c, "pad_token_id", source, 0);
  cfg.eos_token_id = get<std::int64_t>(c, "eos_token_id", source, 1);
  cfg.decoder_start_token_id = get<std::int64_t>(c, "decoder_start_token_id", source, cfg.pad_token_id);
  for (auto [key, id] :
       {std::pair{"pad_token_id", cfg.pad_token_id}, std::pair{"eos_token_id", cfg.eos_token_id},
        std::pair{"decoder_start_token_id", cfg.decoder_start_token_id}})
    if (id < 0 || id >= cfg.vocab_size)
      throw_user_error(source, std::string(key) + " " + std::to_string(id) + " is outside the vocabulary");
  return cfg;
}

T5Config load_t5_config(const std::string& dir_or_file) {
  namespace fs = std::filesystem;
  const fs::path p =
      fs::is_directory(dir_or_file) ? fs::path(dir_or_file) / "config.json" : fs::path(dir_or_file);
  return parse_t5_config(read_json_file(p.string(), "config (a model folder needs config.json)"), p.string());
}

std::int64_t t5_relative_position_bucket(std::int64_t relative, bool bidirectional, std::int64_t num_buckets,
                                         std::int64_t max_distance) {
  std::int64_t bucket = 0;
  std::int64_t n = relative;
  if (bidirectional) {
    num_buckets /= 2;
    if (n > 0) bucket += num_buckets;
    n = std::abs(n);
  } else {
    n = std::max<std::int64_t>(-n, 0);  // only the past (key before query) is distinguished
  }
  const std::int64_t max_exact = num_buckets / 2;
  if (n < max_exact) return bucket + n;
  // float32 arithmetic, as transformers computes it on tensors.
  const float scaled = std::log(static_cast<float>(n) / static_cast<float>(max_exact)) /
                       std::log(static_cast<float>(max_distance) / static_cast<float>(max_exact)) *
                       static_cast<float>(num_buckets - max_exact);
  return bucket + std::min<std::int64_t>(max_exact + static_cast<std::int64_t>(scaled), num_buckets - 1);
}

}  // namespace autopeft::model
