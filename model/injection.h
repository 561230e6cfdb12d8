#pragma once
// Injection points: the places of a backbone where peft/ attaches modules without editing model
// code. Every backbone names its points ("layer.3.attn.q", "layer.3.ffn.output", ...) and lists
// them; peft/ finds them by name and installs its modules there.
//
// Kinds of point:
//   linear    an InjectableLinear (attention q, k, v, o; FFN in, out): augments see the input x
//             and the base output y and return the new output (LoRA adds, IA3 scales);
//   residual  a sublayer's "LayerNorm(h + r)" step (post-LN encoders): a hook receives the
//             sublayer output h (after dense and dropout), the residual r (the sublayer input)
//             and the frozen LayerNorm, and returns the block value (serial and parallel
//             adapters, AdapterHub's bottleneck_layer_forward);
//   attention the self-attention: a prefix provider adds P key/value vectors per head in front
//             of the sequence, always attended (prefix-tuning);
//   block     a layer's output: a hook maps it to a new one;
//   embeddings the input embeddings: a hook may prepend vectors (prompt tuning, P-tuning).
#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace autopeft::model {

enum class InjectionKind { linear, residual, attention, block, embeddings };
std::string_view injection_kind_name(InjectionKind kind);

struct InjectionPoint {
  std::string name;  // e.g. "layer.3.attn.q"
  InjectionKind kind = InjectionKind::linear;
  int layer = -1;                 // layer index, -1 for model-level points
  std::int64_t in_features = 0;   // linear: in; residual/block/embeddings: hidden size
  std::int64_t out_features = 0;  // linear: out; others: hidden size
  std::string hf_module;  // the Hugging Face module path (e.g. "encoder.layer.3.attention.self.query")
};

// A module that changes a linear layer: the base layer sees transform_input(x) (identity unless
// overridden; IA3 on the FFN scales it), then y' = forward(x, y) with the original x.
class LinearAugment : public torch::nn::Module {
 public:
  virtual torch::Tensor transform_input(const torch::Tensor& x) { return x; }
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& y) = 0;
};

// A module that replaces "LayerNorm(h + r)".
class ResidualHook : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& r,
                                torch::nn::LayerNorm& layer_norm) = 0;
};

// Extra keys and values for self-attention, given the attention input x [B, S, H] (for the batch
// size, and for gates that look at it): returns {k, v}, each [B, heads, P, head_dim].
class PrefixProvider : public torch::nn::Module {
 public:
  virtual std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x) = 0;
};

// Maps a tensor to a new one of the same shape (block outputs).
class TensorHook : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
};

// Prepends vectors to the word embeddings [B, S, H] (before positions, token types and LayerNorm,
// as Hugging Face PEFT passes inputs_embeds): returns {embeddings [B, P+S, H], mask [B, P+S]}.
class EmbeddingHook : public torch::nn::Module {
 public:
  virtual std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& embeddings,
                                                          const torch::Tensor& attention_mask) = 0;
};

// A linear layer whose weight and bias are the pretrained ones (frozen by peft/), plus any
// number of augments applied in order. Its parameters are named "weight" and "bias" as in
// torch::nn::Linear, so state-dict keys match Hugging Face's.
class InjectableLinearImpl : public torch::nn::Module {
 public:
  InjectableLinearImpl(std::int64_t in_features, std::int64_t out_features, bool bias = true);
  torch::Tensor forward(const torch::Tensor& x);
  // Registers an augment as submodule `name` (e.g. "lora"); throws if the name is taken.
  void add_augment(const std::string& name, std::shared_ptr<LinearAugment> augment);
  void remove_augments();
  const std::vector<std::pair<std::string, std::shared_ptr<LinearAugment>>>& augments() const {
    return augments_;
  }
  void reset_parameters();  // torch::nn::Linear's initialisation

  std::int64_t in_features, out_features;
  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out] or undefined

 private:
  std::vector<std::pair<std::string, std::shared_ptr<LinearAugment>>> augments_;
};
TORCH_MODULE(InjectableLinear);

}  // namespace autopeft::model
