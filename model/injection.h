#pragma once
// Injection points: the places of a backbone where peft/ attaches modules without editing model
// code. Every backbone names its points ("layer.3.attn.q", "layer.3.ffn.output", ...) and lists
// them; peft/ finds them by name and installs its modules there.
//
// Kinds of point:
//   linear    an InjectableLinear (attention q, k, v, o; FFN in, out): augments see the input x
//             and the base output y and return the new output (LoRA adds, IA3 scales);
//   residual  a sublayer's "LayerNorm(h + r)" step (post-LN encoders), or "h + r" (pre-LN
//             decoders, where the LayerNorm handed over is empty): a hook receives the sublayer
//             output h (after dense and dropout), the residual r (the sublayer input) and the
//             frozen LayerNorm, and returns the block value (serial and parallel adapters,
//             AdapterHub's bottleneck_layer_forward, which decoders call with LN=None);
//   attention the self-attention: a prefix provider adds P key/value vectors per key/value head
//             in front of the sequence, always attended, positions unchanged (prefix-tuning);
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
  std::int64_t in_features = 0;   // linear: in; others: hidden size
  std::int64_t out_features = 0;  // linear: out; attention: key/value width; others: hidden size
  std::int64_t heads = 0;         // attention: key/value heads (a prefix's rows split into these)
  std::string hf_module;  // the Hugging Face module path (e.g. "encoder.layer.3.attention.self.query")
};

// A module that changes a linear layer: the base layer sees transform_input(x) (identity unless
// overridden; IA3 on the FFN scales it), then y' = forward(x, y) with the original x.
// On a slice of a fused layer (see LinearSlice), forward() sees and returns those rows of y only.
class LinearAugment : public torch::nn::Module {
 public:
  virtual torch::Tensor transform_input(const torch::Tensor& x) { return x; }
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& y) = 0;
  // The output rows it acts on, set by InjectableLinear::add_augment (size 0: all of them).
  std::int64_t out_offset = 0, out_size = 0;
  // Those rows of a weight or bias of the layer.
  torch::Tensor rows(const torch::Tensor& t) const {
    return out_size ? t.narrow(0, out_offset, out_size) : t;
  }
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
  virtual std::int64_t length() const = 0;  // the vectors it prepends
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
  // Registers an augment as submodule `name` (e.g. "lora"); throws if the name is taken. With a
  // slice (not the whole layer), the augment acts on those output rows only.
  void add_augment(const std::string& name, std::shared_ptr<LinearAugment> augment, std::int64_t offset = 0,
                   std::int64_t size = 0);
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

// Output rows [offset, offset + size) of a linear layer: one projection of a fused one (GPT-2's
// c_attn holds q, k and v), or the whole layer.
struct LinearSlice {
  InjectableLinear linear{nullptr};
  std::int64_t offset = 0, size = 0;
  bool whole() const { return offset == 0 && size == linear->out_features; }
};

// What peft/ needs of a backbone, whatever its family: the points, and setters for each kind of
// hook. Implemented by the encoder, the causal LMs and T5; names as in injection_points().
class PeftHost {
 public:
  virtual ~PeftHost() = default;
  virtual std::vector<InjectionPoint> injection_points() const = 0;
  // The module of a linear point (for a slice of a fused layer: the fused layer); UserError
  // listing the names when `name` is not one.
  virtual InjectableLinear linear(const std::string& name) const = 0;
  // The rows of the module a linear point owns (the whole layer unless it is fused).
  virtual LinearSlice linear_slice(const std::string& name) const;
  virtual void set_residual_hook(const std::string& name, std::shared_ptr<ResidualHook> hook) = 0;
  virtual void set_prefix(const std::string& name, std::shared_ptr<PrefixProvider> prefix) = 0;
  virtual std::shared_ptr<PrefixProvider> prefix(const std::string& name) const = 0;
  virtual void set_embedding_hook(std::shared_ptr<EmbeddingHook> hook) = 0;
  virtual std::shared_ptr<EmbeddingHook> embedding_hook() const = 0;
  virtual torch::Tensor word_embeddings() const = 0;  // [V, H]
  virtual torch::nn::Module& module() = 0;            // the backbone as a module (its parameters)
  // The point `suffix` of layer `layer` as PeftConfig numbers layers: "layer.3.attn.q"; T5
  // numbers its encoder's layers first ("encoder.layer.<i>.", then "decoder.layer.<i>.").
  virtual std::string layer_point(std::int64_t layer, const std::string& suffix) const {
    return "layer." + std::to_string(layer) + "." + suffix;
  }
};

// Installs `value` in `slot` as submodule `name` of `owner`, replacing what was there (nullptr
// removes it): how every hook setter keeps its hooks inside the module tree.
template <class T>
void replace_submodule(torch::nn::Module& owner, const std::string& name, std::shared_ptr<T>& slot,
                       std::shared_ptr<T> value) {
  if (slot) owner.unregister_module(name);
  slot = std::move(value);
  if (slot) owner.register_module(name, slot);
}

}  // namespace autopeft::model
