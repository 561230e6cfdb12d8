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
#include <torch/nn/modules/embedding.h>

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

// The PEFT hooks of one pre-LN decoder block: adapters at its two residual additions
// ("layer.<i>.attn.output", "layer.<i>.ffn.output"; AdapterHub's attention_adapters and
// output_adapters, called with LN=None) and a prefix in its self-attention ("layer.<i>.attn").
struct BlockHooks {
  std::shared_ptr<ResidualHook> attn_output, ffn_output;
  std::shared_ptr<PrefixProvider> prefix;
};

// What every family's forward starts from: the ids as int64 [B, S] (a UserError for another
// rank), the cached length, the input embeddings (with an embeddings hook's prompt in front at
// the first step: `prompt` vectors), their positions and the causal bias in the model's dtype.
struct DecoderStep {
  torch::Tensor ids, embeds, positions, bias;
  std::int64_t past = 0;
  std::int64_t prompt = 0;
};

class CausalLmImpl : public torch::nn::Module, public PeftHost {
 public:
  // input_ids [B, S]; attention_mask [B, past + S] of 0/1 over the cached tokens and these
  // (default: all ones); `cache` (when given) is read and extended. With an embeddings hook
  // (prompt tuning), the prompt is prepended at the first step and stays in the cache; the mask
  // never covers it, and the outputs leave it out ([B, S, ...]): real tokens take positions
  // after it, as HF PEFT's (which returns the prompt's logits too).
  virtual CausalLmOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                                 KvCache* cache = nullptr) = 0;
  virtual const DecoderConfig& config() const = 0;

  // PeftHost. Points: the family's linear ones per layer, then "layer.<i>.attn" (prefix),
  // "layer.<i>.attn.output" and "layer.<i>.ffn.output" (adapters), and "embeddings".
  std::vector<InjectionPoint> injection_points() const final;
  void set_residual_hook(const std::string& name, std::shared_ptr<ResidualHook> hook) final;
  void set_prefix(const std::string& name, std::shared_ptr<PrefixProvider> prefix) final;
  std::shared_ptr<PrefixProvider> prefix(const std::string& name) const final;
  void set_embedding_hook(std::shared_ptr<EmbeddingHook> hook) final;
  std::shared_ptr<EmbeddingHook> embedding_hook() const final { return embedding_hook_; }
  torch::nn::Module& module() final { return *this; }

 protected:
  // Per layer, in order: the linear points (LoRA, IA3).
  virtual std::vector<InjectionPoint> linear_points() const = 0;
  // The modules hooks register in (adapters in the block, a prefix in its attention) and their
  // Hugging Face paths ("transformer.h.3", "transformer.h.3.attn").
  virtual torch::nn::Module& block_module(std::size_t layer) = 0;
  virtual torch::nn::Module& attention_module(std::size_t layer) = 0;
  virtual std::string block_path(std::size_t layer) const = 0;
  virtual std::string attention_path(std::size_t layer) const = 0;
  const BlockHooks& hooks(std::size_t layer) const;
  // The step's inputs (see DecoderStep) from the word embedding table `wte`.
  DecoderStep begin(const torch::Tensor& input_ids, const torch::Tensor& attention_mask, const KvCache* cache,
                    torch::nn::Embedding wte) const;
  // The outputs from the final-normed hidden states, the prompt left out; `head` when the model
  // has its own, else the tied word embeddings.
  CausalLmOutput output(const DecoderStep& step, const torch::Tensor& hidden, InjectableLinear head) const;

 private:
  std::vector<BlockHooks> hooks_;
  std::shared_ptr<EmbeddingHook> embedding_hook_;
};

// ---- pieces the families share --------------------------------------------------------------

// h + r, or what an adapter hook makes of it (pre-LN: no LayerNorm after the addition).
torch::Tensor residual_add(const std::shared_ptr<ResidualHook>& hook, const torch::Tensor& h,
                           const torch::Tensor& r);
// Puts a prefix's keys and values in front of k and v [B, KV, T, D] and zeros (always attended,
// no position bias) in front of the bias [B, 1 or H, S, T]; `x` is the attention input (for
// gates). No-op without one.
void prepend_prefix(const std::shared_ptr<PrefixProvider>& prefix, const torch::Tensor& x, torch::Tensor& k,
                    torch::Tensor& v, torch::Tensor& bias);

// Position ids [B, S] of the last S tokens (see the note at the top).
torch::Tensor decoder_positions(const torch::Tensor& attention_mask, std::int64_t past, std::int64_t length,
                                const torch::Device& device);
// The additive attention bias [B, 1, S, past + S]: 0 where query i (at past + i) may attend key
// j (j <= past + i and attention_mask[b, j] = 1), else the dtype's lowest value. A fully masked
// row (a padded query) attends only itself, so that its softmax stays finite.
torch::Tensor causal_attention_bias(const torch::Tensor& attention_mask, std::int64_t past,
                                    std::int64_t length, torch::ScalarType dtype,
                                    const torch::Device& device);
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
