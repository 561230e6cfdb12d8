#pragma once
// Llama (transformers' LlamaForCausalLM; Mistral without a sliding window has the same layout):
// pre-RMSNorm blocks, rotary position embeddings on q and k (transformers' rotate-half
// convention: the first and second halves of a head form the rotated pairs), grouped-query
// attention, SwiGLU FFN down(act(gate(x)) * up(x)), final norm, LM head tied or not.
// Parameter names are the checkpoint keys (model.layers.3.self_attn.q_proj.weight, ...).
// Injection points per layer: attn.q, attn.k, attn.v, attn.o, ffn.gate, ffn.in (up_proj),
// ffn.out (down_proj).
#include <torch/nn/module.h>

#include <memory>

#include "model/causal_lm.h"

namespace autopeft::model {

std::shared_ptr<CausalLmImpl> make_llama(const DecoderConfig& config);

// RMSNorm as transformers computes it: in float32, x * rsqrt(mean(x^2) + eps), cast back, times
// the weight.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);
// The module form (a "weight" parameter of ones): Llama's norms and T5's T5LayerNorm.
class RmsNormImpl : public torch::nn::Module {
 public:
  RmsNormImpl(std::int64_t size, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RmsNorm);

// The rotary inverse frequencies [D/2] (float32): theta^(-2i/D), scaled as `scaling` says
// (transformers' rope utilities: "linear" and "llama3").
torch::Tensor rope_inverse_frequencies(std::int64_t head_dim, double theta, const RopeScaling& scaling = {});

// Rotary embedding of x [B, heads, S, D] at positions [B, S]: x cos + rotate_half(x) sin with
// angles position * inv_freq[i] for i < D/2, repeated for both halves.
torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& positions,
                           const torch::Tensor& inv_freq);
inline torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& positions, double theta) {
  return apply_rotary(x, positions, rope_inverse_frequencies(x.size(-1), theta).to(x.device()));
}

}  // namespace autopeft::model
