#pragma once
// config.json of a decoder-only causal language model (GPT-2, Llama and Llama-shaped families),
// validated. Torch-free. Defaults are transformers' where a key is absent; a missing required
// key, a wrong type or an unsupported value is a UserError naming the file and the key.
//   gpt2:  n_embd, n_layer, n_head, n_inner (null: 4 n_embd), n_positions, activation_function
//          (gelu_new), layer_norm_epsilon (1e-5), scale_attn_weights (true),
//          scale_attn_by_inverse_layer_idx (false), tied LM head;
//   llama (also "mistral" without a sliding window): hidden_size, num_hidden_layers,
//          num_attention_heads, num_key_value_heads (default: heads), head_dim (default:
//          hidden / heads), intermediate_size, hidden_act (silu), rms_norm_eps (1e-6),
//          rope_theta (10000), max_position_embeddings, attention_bias / mlp_bias (false),
//          tie_word_embeddings (false), rope_scaling (null; "linear" and "llama3" as transformers'
//          rope utilities compute them; "dynamic", "yarn", "longrope" are refused by name rather
//          than run wrongly).
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace autopeft::model {

enum class DecoderFamily { gpt2, llama };

// Rotary-embedding frequency scaling (config.json's rope_scaling; "rope_type", or "type" in older
// files). "linear" divides every frequency by factor (positions / factor); "llama3" (Llama 3.1+)
// divides the low frequencies (wavelength above original_max / low_freq_factor) by factor, keeps
// the high ones (wavelength below original_max / high_freq_factor) and blends those between.
struct RopeScaling {
  std::string type = "default";
  double factor = 1.0;
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  std::int64_t original_max_positions = 8192;            // llama3: original_max_position_embeddings
};

struct DecoderConfig {
  std::string model_type;  // as written in config.json
  DecoderFamily family = DecoderFamily::gpt2;
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t num_layers = 0;
  std::int64_t num_heads = 0;
  std::int64_t num_kv_heads = 0;  // grouped-query attention: heads % kv_heads == 0
  std::int64_t head_dim = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t max_positions = 0;  // GPT-2: rows of the position table; Llama: the trained context
  std::string activation;          // gelu_new (GPT-2), silu (Llama), ...
  double norm_eps = 1e-5;          // LayerNorm (GPT-2) or RMSNorm (Llama) epsilon
  double rope_theta = 10000.0;     // Llama only
  RopeScaling rope_scaling;        // Llama only
  bool tie_word_embeddings = true;
  bool attention_bias = true;                    // q, k, v, o biases (GPT-2: always; Llama: attention_bias)
  bool mlp_bias = true;                          // FFN biases (GPT-2: always; Llama: mlp_bias)
  bool scale_attn_weights = true;                // GPT-2: divide scores by sqrt(head_dim)
  bool scale_attn_by_inverse_layer_idx = false;  // GPT-2: and by layer index + 1
  double dropout = 0.0;                          // residual dropout (GPT-2 resid_pdrop; Llama 0)
  double embed_dropout = 0.0;                    // after the embeddings (GPT-2 embd_pdrop; Llama 0)
  double attn_dropout = 0.0;                     // attention-probability dropout
  std::vector<std::int64_t> eos_token_ids;       // eos_token_id (one id or a list)
  std::int64_t bos_token_id = -1;
  std::int64_t pad_token_id = -1;

  // Key prefix of the backbone: "transformer." (GPT-2) or "model." (Llama).
  std::string base_prefix() const { return family == DecoderFamily::gpt2 ? "transformer." : "model."; }
};

// The model_type values of decoder-only families we load.
const std::vector<std::string>& supported_decoder_types();
bool is_decoder_model_type(const std::string& model_type);
// config.json's model_type, "" when it has none (errors name the file).
std::string model_type_of(const std::string& dir_or_file);

DecoderConfig parse_decoder_config(const nlohmann::json& config, const std::string& source);
DecoderConfig load_decoder_config(const std::string& dir_or_file);

}  // namespace autopeft::model
