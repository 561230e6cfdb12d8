#pragma once
// BERT-family encoders (BERT, RoBERTa, XLM-R, CamemBERT) with Hugging Face's numerics:
// post-LayerNorm blocks, exact (erf) GELU unless the config says otherwise, additive attention
// mask of the dtype's lowest value on padded keys, BERT absolute positions from 0 and
// RoBERTa's positions counted over non-padding tokens from pad_token_id + 1.
//
// The module tree mirrors transformers' BertModel / RobertaModel, so parameter names are the
// checkpoint keys: embeddings.word_embeddings.weight, encoder.layer.3.attention.self.query.weight,
// encoder.layer.3.output.LayerNorm.bias, pooler.dense.weight, ... Task models put the backbone
// under "bert" or "roberta" and the head beside it, as transformers does.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <map>
#include <string>
#include <vector>

#include "model/format/model_config.h"
#include "model/injection.h"

namespace autopeft::model {

// HF "attention.self": q, k, v projections and scaled dot-product attention.
class SelfAttentionImpl : public torch::nn::Module {
 public:
  explicit SelfAttentionImpl(const EncoderConfig& config);
  // x [B, S, H]; mask_add [B, 1, 1, S] (0 or lowest); returns the context [B, S, H].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask_add);
  void set_prefix(std::shared_ptr<PrefixProvider> prefix);  // nullptr removes it
  std::shared_ptr<PrefixProvider> prefix() const { return prefix_; }

  InjectableLinear query{nullptr}, key{nullptr}, value{nullptr};

 private:
  std::int64_t heads_, head_dim_;
  torch::nn::Dropout dropout_{nullptr};
  std::shared_ptr<PrefixProvider> prefix_;
};
TORCH_MODULE(SelfAttention);

// HF "attention.output" and "output": LayerNorm(dropout(dense(x)) + residual), or the hook.
class SublayerOutputImpl : public torch::nn::Module {
 public:
  SublayerOutputImpl(std::int64_t in_features, const EncoderConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual);
  void set_hook(std::shared_ptr<ResidualHook> hook);  // nullptr removes it
  std::shared_ptr<ResidualHook> hook() const { return hook_; }

  InjectableLinear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // HF's name, kept for the checkpoint keys

 private:
  torch::nn::Dropout dropout_{nullptr};
  std::shared_ptr<ResidualHook> hook_;
};
TORCH_MODULE(SublayerOutput);

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const EncoderConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask_add);
  SelfAttention self{nullptr};
  SublayerOutput output{nullptr};
};
TORCH_MODULE(Attention);

class IntermediateImpl : public torch::nn::Module {
 public:
  explicit IntermediateImpl(const EncoderConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  InjectableLinear dense{nullptr};

 private:
  std::string act_;
};
TORCH_MODULE(Intermediate);

class EncoderLayerImpl : public torch::nn::Module {
 public:
  explicit EncoderLayerImpl(const EncoderConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask_add);
  void set_output_hook(std::shared_ptr<TensorHook> hook);  // "layer.i.block"
  std::shared_ptr<TensorHook> output_hook() const { return output_hook_; }

  Attention attention{nullptr};
  Intermediate intermediate{nullptr};
  SublayerOutput output{nullptr};

 private:
  std::shared_ptr<TensorHook> output_hook_;
};
TORCH_MODULE(EncoderLayer);

class EmbeddingsImpl : public torch::nn::Module {
 public:
  explicit EmbeddingsImpl(const EncoderConfig& config);
  // input_ids, token_type_ids [B, S] (int64); returns [B, S, H].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids);
  // Word embeddings given (e.g. with prompt vectors prepended), positions and token types added,
  // then LayerNorm and dropout: transformers' path for inputs_embeds.
  torch::Tensor combine(const torch::Tensor& word, const torch::Tensor& token_type_ids,
                        const torch::Tensor& positions);
  // The positions transformers uses for inputs_embeds: 0.. (BERT) or pad+1.. (RoBERTa), padding
  // included (it cannot see which rows are padding).
  torch::Tensor sequential_positions(std::int64_t batch, std::int64_t length,
                                     const torch::Device& device) const;
  // The position ids the family uses for these inputs.
  torch::Tensor position_ids(const torch::Tensor& input_ids) const;

  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};

 private:
  EncoderFamily family_;
  std::int64_t pad_;
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(Embeddings);

// HF "encoder": holds "layer" (a ModuleList of EncoderLayer).
class EncoderStackImpl : public torch::nn::Module {
 public:
  explicit EncoderStackImpl(const EncoderConfig& config);
  torch::nn::ModuleList layer{nullptr};
  EncoderLayer at(std::size_t i) const;
  std::size_t size() const { return layer->size(); }
};
TORCH_MODULE(EncoderStack);

class PoolerImpl : public torch::nn::Module {
 public:
  explicit PoolerImpl(const EncoderConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden);  // tanh(dense(hidden[:, 0]))
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(Pooler);

struct EncoderOutput {
  torch::Tensor last_hidden_state;  // [B, S, H] (S includes prompt vectors an embeddings hook added)
  std::int64_t prompt_tokens = 0;   // vectors an embeddings hook put in front of the sequence
  torch::Tensor pooled;             // [B, H] when the model has a pooler, else undefined
  torch::Tensor attention_mask;     // [B, S] the mask actually used
};

// BertModel / RobertaModel.
class EncoderModelImpl : public torch::nn::Module, public PeftHost {
 public:
  EncoderModelImpl(const EncoderConfig& config, bool with_pooler);
  // attention_mask [B, S] of 0/1 (default: all ones); token_type_ids default zeros.
  EncoderOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                        const torch::Tensor& token_type_ids = {});
  // The forward pass in two parts, for the trainer's activation cache: the input of layer k
  // (embeddings and layers 0..k-1; no embeddings hook allowed), and layers k.. (and the pooler)
  // from such a hidden state. forward() is forward_from(0, embeddings).
  torch::Tensor hidden_before(std::int64_t k, const torch::Tensor& input_ids,
                              const torch::Tensor& attention_mask, const torch::Tensor& token_type_ids = {});
  EncoderOutput forward_from(std::int64_t k, const torch::Tensor& hidden,
                             const torch::Tensor& attention_mask);
  void set_embedding_hook(std::shared_ptr<EmbeddingHook> hook) override;
  std::shared_ptr<EmbeddingHook> embedding_hook() const override { return embedding_hook_; }

  const EncoderConfig& config() const { return config_; }
  bool has_pooler() const { return !pooler.is_empty(); }

  // Every injection point, in a fixed order (layer by layer).
  std::vector<InjectionPoint> injection_points() const override;
  // The linear layer at a linear point ("layer.3.attn.q"); throws UserError listing the names
  // of that kind when `name` is not one.
  InjectableLinear linear(const std::string& name) const override;
  SublayerOutput residual(const std::string& name) const;     // "layer.3.attn.output" / "layer.3.ffn.output"
  SelfAttention attention_at(const std::string& name) const;  // "layer.3.attn"
  EncoderLayer layer_at(const std::string& name) const;       // "layer.3.block"
  // PeftHost
  void set_residual_hook(const std::string& name, std::shared_ptr<ResidualHook> hook) override {
    residual(name)->set_hook(std::move(hook));
  }
  void set_prefix(const std::string& name, std::shared_ptr<PrefixProvider> prefix) override {
    attention_at(name)->set_prefix(std::move(prefix));
  }
  std::shared_ptr<PrefixProvider> prefix(const std::string& name) const override {
    return attention_at(name)->prefix();
  }
  torch::Tensor word_embeddings() const override { return embeddings->word_embeddings->weight; }
  torch::nn::Module& module() override { return *this; }

  Embeddings embeddings{nullptr};
  EncoderStack encoder{nullptr};
  Pooler pooler{nullptr};

 private:
  EncoderConfig config_;
  std::shared_ptr<EmbeddingHook> embedding_hook_;
  std::pair<std::size_t, std::string> parse_point(const std::string& name, InjectionKind kind) const;
};
TORCH_MODULE(EncoderModel);

// The value masked attention scores get: the dtype's lowest (transformers' finfo(dtype).min).
double mask_lowest(torch::ScalarType dtype);

// The additive mask: [B, S] of 0/1 -> [B, 1, 1, S] of 0 / the lowest value of `dtype`.
torch::Tensor additive_attention_mask(const torch::Tensor& attention_mask, torch::ScalarType dtype);

// Applies a config activation name ("gelu", "gelu_new", "relu", "silu", ...).
torch::Tensor activation(const std::string& name, const torch::Tensor& x);

}  // namespace autopeft::model
