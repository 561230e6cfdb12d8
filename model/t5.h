#pragma once
// T5 encoder-decoder (transformers' T5ForConditionalGeneration; v1.0 and v1.1/mT5): RMS
// layer norms without bias (T5LayerNorm), no 1/sqrt(d) attention scaling, relative-position
// biases computed by the first block of each stack and shared by every block of it
// (bidirectional buckets in the encoder, causal ones in the decoder; cross-attention has none),
// ReLU or gated FFN, and with a tied head the decoder output scaled by d_model^-0.5 before it.
// Parameter names are the checkpoint keys (shared.weight,
// encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight,
// decoder.block.3.layer.1.EncDecAttention.q.weight, ...).
// Injection points (linear): {encoder,decoder}.layer.<i>.attn.{q,k,v,o},
// decoder.layer.<i>.cross.{q,k,v,o}, {encoder,decoder}.layer.<i>.ffn.{in,out} (+ ffn.gate when
// gated: wi_0 is the activated branch, wi_1 the linear one).
#include <torch/nn/module.h>

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "model/causal_lm.h"  // KvCache, DecoderLoadOptions
#include "model/format/t5_config.h"
#include "model/injection.h"

namespace autopeft::model {

struct Seq2SeqOutput {
  torch::Tensor logits;             // [B, S_dec, V]
  torch::Tensor last_hidden_state;  // [B, S_dec, d_model]: the decoder's, after its final norm
  torch::Tensor encoder_hidden_state;
};

// The decoder's caches: self-attention keys/values grow by step; cross-attention ones are the
// projections of the encoder output, computed at the first step.
struct Seq2SeqCache {
  KvCache self, cross;
  void select(const torch::Tensor& index) {
    self.select(index);
    cross.select(index);
  }
};

// PEFT (PeftHost): layers are numbered encoder first (layer_point()); per layer the linear points
// above, "attn" (self-attention prefix; "cross" too in decoder layers), "attn.output" and
// "ffn.output" (adapters at the residual additions, LN=None as AdapterHub's T5), and
// "embeddings" (a prompt in front of the encoder's input; the decoder sees it through the
// encoder's output and a mask extended with ones). Prefix keys get no relative-position bias and
// leave the real keys' biases as they were (AdapterHub shifts them by the prefix length; we
// differ on purpose so that a prefix does not move positions).
class T5ModelImpl : public torch::nn::Module, public PeftHost {
 public:
  virtual ~T5ModelImpl() = default;
  // The encoder's output [B, S, d_model] (attention_mask [B, S] of 0/1, default all ones).
  virtual torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {}) = 0;
  // Decoder logits for decoder_input_ids [B, S_dec] given the encoder output; `cache` (optional)
  // holds earlier decoder steps. An encoder mask shorter than the encoder output (a prompt in
  // front of it) gets ones in front.
  virtual Seq2SeqOutput decode(const torch::Tensor& decoder_input_ids, const torch::Tensor& encoder_hidden,
                               const torch::Tensor& encoder_mask, Seq2SeqCache* cache = nullptr) = 0;
  Seq2SeqOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        const torch::Tensor& decoder_input_ids);
  virtual const T5Config& config() const = 0;
};

std::shared_ptr<T5ModelImpl> make_t5(const T5Config& config);

struct LoadedT5 {
  T5Config config;
  std::shared_ptr<T5ModelImpl> model;
  std::vector<std::string> ignored;  // the stacks' copies of the tied embeddings, a tied lm_head
};
// Loads a T5 folder; errors as load_causal_lm's.
LoadedT5 load_t5(const std::string& dir, const DecoderLoadOptions& options = {});
// Writes a T5 folder in Hugging Face's layout.
void save_t5(const std::string& dir, T5ModelImpl& model, const nlohmann::json& config_json);

}  // namespace autopeft::model
