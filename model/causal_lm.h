#pragma once
// Decoder-only causal language models (GPT-2, Llama) behind one interface, their key-value cache,
// and loading them from a Hugging Face model folder. The families live in model/gpt2.* and
// model/llama.*; generation (greedy, beam search) in model/generation.*.
//
// Positions: with an attention mask, a token's position is the number of attended tokens before
// it (cumsum(mask) - 1, as transformers' generate() computes position_ids), so left-padded rows
// start at 0; without one, past length + 0, 1, ... . The two agree when nothing is padded.
#include <c10/core/Device.h>
#include <torch/nn/module.h>

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "model/format/decoder_config.h"
#include "model/injection.h"

namespace autopeft::model {

// Keys and values of every layer for the tokens seen so far: [B, kv_heads, T, head_dim] each.
struct KvCache {
  std::vector<torch::Tensor> keys, values;  // one per layer; undefined before the first step
  std::int64_t length() const { return keys.empty() || !keys[0].defined() ? 0 : keys[0].size(2); }
  // Keeps rows `index` of the batch (beam search's reordering).
  void select(const torch::Tensor& index);
  // Appends this step's k, v of layer `layer`; returns the whole cached k, v.
  std::pair<torch::Tensor, torch::Tensor> append(std::size_t layer, const torch::Tensor& k,
                                                 const torch::Tensor& v);
};

struct CausalLmOutput {
  torch::Tensor logits;             // [B, S, V]
  torch::Tensor last_hidden_state;  // [B, S, H] after the final norm
};

class CausalLmImpl : public torch::nn::Module {
 public:
  // input_ids [B, S]; attention_mask [B, past + S] of 0/1 over the cached tokens and these
  // (default: all ones); `cache` (when given) is read and extended.
  virtual CausalLmOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                                 KvCache* cache = nullptr) = 0;
  virtual const DecoderConfig& config() const = 0;
  // Every injection point, layer by layer (linear points: LoRA, IA3).
  virtual std::vector<InjectionPoint> injection_points() const = 0;
  // The linear layer of a linear point; UserError listing the names when `name` is not one.
  virtual InjectableLinear linear(const std::string& name) const = 0;
  // The word embeddings [V, H] (tied to the LM head where the config says so).
  virtual torch::Tensor word_embeddings() const = 0;
};

// ---- pieces the families share --------------------------------------------------------------

// Position ids [B, S] of the last S tokens (see the note at the top).
torch::Tensor decoder_positions(const torch::Tensor& attention_mask, std::int64_t past, std::int64_t length,
                                const torch::Device& device);
// The additive attention bias [B, 1, S, past + S]: 0 where query i (at past + i) may attend key
// j (j <= past + i and attention_mask[b, j] = 1), else the dtype's lowest value. A fully masked
// row (a padded query) attends only itself, so that its softmax stays finite.
torch::Tensor causal_attention_bias(const torch::Tensor& attention_mask, std::int64_t past,
                                    std::int64_t length, torch::ScalarType dtype,
                                    const torch::Device& device);
// What every family's forward starts from: the ids as int64 [B, S] (a UserError for another
// rank), the cached length, the positions and the causal bias in `dtype` (the model's).
struct DecoderStep {
  torch::Tensor ids, positions, bias;
  std::int64_t past = 0;
};
DecoderStep decoder_step(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                         const KvCache* cache, torch::ScalarType dtype);
// The LM head: `head` when the model has its own, else the tied word embeddings [V, H].
torch::Tensor lm_logits(const torch::Tensor& hidden, InjectableLinear head, const torch::Tensor& embeddings);

// softmax(q k^T * scale + bias) v with grouped-query attention: q [B, H, S, D], k and v
// [B, KV, T, D] with H a multiple of KV (query head h reads key/value head h / (H / KV), as
// transformers' repeat_kv). Returns [B, S, H * D].
torch::Tensor grouped_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                const torch::Tensor& bias, double scale, double dropout, bool training);

struct DecoderLoadOptions {
  bool allow_unexpected = false;  // accept checkpoint keys that match nothing
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;
};

struct LoadedCausalLm {
  DecoderConfig config;
  std::shared_ptr<CausalLmImpl> model;
  std::vector<std::string> ignored;  // keys skipped on purpose (buffers, a tied lm_head copy)
};

// Loads a GPT-2 or Llama folder (config.json, safetensors). Every missing key and shape mismatch
// is listed in one UserError; unexpected keys are an error unless allowed. GPT-2's Conv1D weights
// ([in, out] in the file) are transposed into our [out, in] linears. Eval mode.
LoadedCausalLm load_causal_lm(const std::string& dir, const DecoderLoadOptions& options = {});
// Writes a model folder in Hugging Face's layout (config.json as given, model.safetensors with
// GPT-2's Conv1D weights transposed back to [in, out]; a tied head is not written).
void save_causal_lm(const std::string& dir, CausalLmImpl& model, const nlohmann::json& config_json);
// A randomly initialised model of a config (N(0, 0.02) weights, zero biases, unit norms).
std::shared_ptr<CausalLmImpl> make_causal_lm(const DecoderConfig& config);

}  // namespace autopeft::model

namespace autopeft::model::detail {
// "layer.<i>.<suffix>" with i < layers and suffix one of `suffixes`: {i, suffix}; else a UserError
// listing the point names.
std::pair<std::size_t, std::string> parse_layer_point(const std::string& name,
                                                      const std::vector<std::string>& suffixes,
                                                      std::int64_t layers);
}  // namespace autopeft::model::detail
