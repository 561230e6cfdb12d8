#include "model/encoder.h"

#include <torch/nn/functional/activation.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "core/errors.h"

namespace autopeft::model {

torch::Tensor activation(const std::string& name, const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  if (name == "gelu") return torch::gelu(x);  // exact: 0.5 x (1 + erf(x / sqrt 2))
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (name == "relu") return torch::relu(x);
  if (name == "silu" || name == "swish") return torch::silu(x);
  throw_user_error("hidden_act", "unsupported activation '" + name + "'");
}

torch::Tensor additive_attention_mask(const torch::Tensor& attention_mask, torch::ScalarType dtype) {
  // transformers: (1 - mask) * finfo(dtype).min, broadcast over heads and queries.
  auto m = attention_mask.to(dtype).unsqueeze(1).unsqueeze(2);
  return (1.0 - m) * mask_lowest(dtype);
}

double mask_lowest(torch::ScalarType dtype) {
  return dtype == torch::kFloat64    ? std::numeric_limits<double>::lowest()
         : dtype == torch::kFloat16  ? -65504.0
         : dtype == torch::kBFloat16 ? -3.3895313892515355e38
                                     : static_cast<double>(std::numeric_limits<float>::lowest());
}

// ---------------------------------------------------------------------------------------------

SelfAttentionImpl::SelfAttentionImpl(const EncoderConfig& c) : heads_(c.num_heads), head_dim_(c.head_dim()) {
  query = register_module("query", InjectableLinear(c.hidden_size, c.hidden_size));
  key = register_module("key", InjectableLinear(c.hidden_size, c.hidden_size));
  value = register_module("value", InjectableLinear(c.hidden_size, c.hidden_size));
  dropout_ = register_module("dropout", torch::nn::Dropout(c.attention_dropout));
}

void SelfAttentionImpl::set_prefix(std::shared_ptr<PrefixProvider> prefix) {
  replace_submodule(*this, "prefix", prefix_, std::move(prefix));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask_add) {
  const auto B = x.size(0), S = x.size(1);
  auto split = [&](const torch::Tensor& t) { return t.view({B, S, heads_, head_dim_}).transpose(1, 2); };
  auto q = split(query->forward(x));
  auto k = split(key->forward(x));
  auto v = split(value->forward(x));
  auto mask = mask_add;
  if (prefix_) {
    auto [pk, pv] = prefix_->forward(x);
    k = torch::cat({pk.to(k.dtype()), k}, 2);
    v = torch::cat({pv.to(v.dtype()), v}, 2);
    // Prefix positions are always attended: zeros in front of the mask.
    mask = torch::cat({torch::zeros({mask_add.size(0), 1, 1, pk.size(2)}, mask_add.options()), mask_add}, 3);
  }
  auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(head_dim_)) + mask;
  auto probs = dropout_->forward(torch::softmax(scores, -1));
  return torch::matmul(probs, v).transpose(1, 2).reshape({B, S, heads_ * head_dim_});
}

SublayerOutputImpl::SublayerOutputImpl(std::int64_t in_features, const EncoderConfig& c) {
  dense = register_module("dense", InjectableLinear(in_features, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  dropout_ = register_module("dropout", torch::nn::Dropout(c.hidden_dropout));
}

void SublayerOutputImpl::set_hook(std::shared_ptr<ResidualHook> hook) {
  replace_submodule(*this, "hook", hook_, std::move(hook));
}

torch::Tensor SublayerOutputImpl::forward(const torch::Tensor& x, const torch::Tensor& residual) {
  auto h = dropout_->forward(dense->forward(x));
  if (hook_) return hook_->forward(h, residual, LayerNorm);
  return LayerNorm->forward(h + residual);
}

AttentionImpl::AttentionImpl(const EncoderConfig& c) {
  self = register_module("self", SelfAttention(c));
  output = register_module("output", SublayerOutput(c.hidden_size, c));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask_add) {
  return output->forward(self->forward(x, mask_add), x);
}

IntermediateImpl::IntermediateImpl(const EncoderConfig& c) : act_(c.hidden_act) {
  dense = register_module("dense", InjectableLinear(c.hidden_size, c.intermediate_size));
}

torch::Tensor IntermediateImpl::forward(const torch::Tensor& x) {
  return activation(act_, dense->forward(x));
}

EncoderLayerImpl::EncoderLayerImpl(const EncoderConfig& c) {
  attention = register_module("attention", Attention(c));
  intermediate = register_module("intermediate", Intermediate(c));
  output = register_module("output", SublayerOutput(c.intermediate_size, c));
}

void EncoderLayerImpl::set_output_hook(std::shared_ptr<TensorHook> hook) {
  replace_submodule(*this, "output_hook", output_hook_, std::move(hook));
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask_add) {
  auto a = attention->forward(x, mask_add);
  auto out = output->forward(intermediate->forward(a), a);
  return output_hook_ ? output_hook_->forward(out) : out;
}

EmbeddingsImpl::EmbeddingsImpl(const EncoderConfig& c) : family_(c.family), pad_(c.pad_token_id) {
  word_embeddings = register_module(
      "word_embeddings",
      torch::nn::Embedding(
          torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size).padding_idx(c.pad_token_id)));
  position_embeddings = register_module(
      "position_embeddings",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(c.max_position_embeddings, c.hidden_size)));
  token_type_embeddings =
      register_module("token_type_embeddings",
                      torch::nn::Embedding(torch::nn::EmbeddingOptions(c.type_vocab_size, c.hidden_size)));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  dropout_ = register_module("dropout", torch::nn::Dropout(c.hidden_dropout));
}

torch::Tensor EmbeddingsImpl::position_ids(const torch::Tensor& ids) const {
  if (family_ == EncoderFamily::roberta) {
    // transformers' create_position_ids_from_input_ids: cumsum over non-padding, offset by pad.
    auto mask = ids.ne(pad_).to(torch::kInt64);
    return torch::cumsum(mask, 1) * mask + pad_;
  }
  return torch::arange(ids.size(1), ids.options().dtype(torch::kInt64))
      .unsqueeze(0)
      .expand({ids.size(0), ids.size(1)});
}

torch::Tensor EmbeddingsImpl::forward(const torch::Tensor& ids, const torch::Tensor& token_type_ids) {
  const auto positions = position_ids(ids);
  const auto max_pos = position_embeddings->weight.size(0);
  if (positions.numel() > 0 && positions.max().item<std::int64_t>() >= max_pos)
    throw_user_error("input", "sequence of " + std::to_string(ids.size(1)) + " tokens needs position " +
                                  std::to_string(positions.max().item<std::int64_t>()) +
                                  ", but the model has " + std::to_string(max_pos) + " position embeddings");
  return combine(word_embeddings->forward(ids), token_type_ids, positions);
}

torch::Tensor EmbeddingsImpl::combine(const torch::Tensor& word, const torch::Tensor& token_type_ids,
                                      const torch::Tensor& positions) {
  auto x = word + token_type_embeddings->forward(token_type_ids) + position_embeddings->forward(positions);
  return dropout_->forward(LayerNorm->forward(x));
}

torch::Tensor EmbeddingsImpl::sequential_positions(std::int64_t batch, std::int64_t length,
                                                   const torch::Device& device) const {
  const std::int64_t start = family_ == EncoderFamily::roberta ? pad_ + 1 : 0;
  const auto max_pos = position_embeddings->weight.size(0);
  if (start + length > max_pos)
    throw_user_error("input", std::to_string(length) + " positions (prompt included) exceed the model's " +
                                  std::to_string(max_pos - start));
  return torch::arange(start, start + length, torch::TensorOptions().dtype(torch::kInt64).device(device))
      .unsqueeze(0)
      .expand({batch, length});
}

EncoderStackImpl::EncoderStackImpl(const EncoderConfig& c) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.num_layers; ++i) layer->push_back(EncoderLayer(c));
}

EncoderLayer EncoderStackImpl::at(std::size_t i) const {
  return EncoderLayer(layer->ptr<EncoderLayerImpl>(i));
}

PoolerImpl::PoolerImpl(const EncoderConfig& c) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

torch::Tensor PoolerImpl::forward(const torch::Tensor& hidden) {
  return torch::tanh(dense->forward(hidden.select(1, 0)));
}

// ---------------------------------------------------------------------------------------------

EncoderModelImpl::EncoderModelImpl(const EncoderConfig& c, bool with_pooler) : config_(c) {
  embeddings = register_module("embeddings", Embeddings(c));
  encoder = register_module("encoder", EncoderStack(c));
  if (with_pooler) pooler = register_module("pooler", Pooler(c));
}

void EncoderModelImpl::set_embedding_hook(std::shared_ptr<EmbeddingHook> hook) {
  replace_submodule(*this, "embedding_hook", embedding_hook_, std::move(hook));
}

EncoderOutput EncoderModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                        const torch::Tensor& token_type_ids) {
  if (input_ids.dim() != 2)
    throw_user_error("input_ids",
                     "expected [batch, tokens], got " + std::to_string(input_ids.dim()) + " dims");
  auto ids = input_ids.to(torch::kInt64);
  auto mask = attention_mask.defined() ? attention_mask : torch::ones_like(ids);
  auto types = token_type_ids.defined() ? token_type_ids.to(torch::kInt64) : torch::zeros_like(ids);
  torch::Tensor x;
  std::int64_t prompt = 0;
  if (embedding_hook_) {
    auto [word, new_mask] = embedding_hook_->forward(embeddings->word_embeddings->forward(ids), mask);
    prompt = word.size(1) - ids.size(1);
    mask = new_mask;
    types = torch::cat({torch::zeros({ids.size(0), prompt}, types.options()), types}, 1);
    x = embeddings->combine(word, types,
                            embeddings->sequential_positions(ids.size(0), word.size(1), ids.device()));
  } else {
    x = embeddings->forward(ids, types);
  }
  auto out = forward_from(0, x, mask);
  out.prompt_tokens = prompt;
  return out;
}

torch::Tensor EncoderModelImpl::hidden_before(std::int64_t k, const torch::Tensor& input_ids,
                                              const torch::Tensor& attention_mask,
                                              const torch::Tensor& token_type_ids) {
  if (embedding_hook_)
    throw std::logic_error("hidden_before: the model has an embeddings hook (prompt methods)");
  if (k < 0 || k > static_cast<std::int64_t>(encoder->size()))
    throw std::out_of_range("hidden_before: layer index");
  auto ids = input_ids.to(torch::kInt64);
  auto types = token_type_ids.defined() ? token_type_ids.to(torch::kInt64) : torch::zeros_like(ids);
  auto x = embeddings->forward(ids, types);
  const auto mask_add = additive_attention_mask(attention_mask, x.scalar_type());
  for (std::int64_t i = 0; i < k; ++i) x = encoder->at(static_cast<std::size_t>(i))->forward(x, mask_add);
  return x;
}

EncoderOutput EncoderModelImpl::forward_from(std::int64_t k, const torch::Tensor& hidden,
                                             const torch::Tensor& attention_mask) {
  auto x = hidden;
  const auto mask_add = additive_attention_mask(attention_mask, x.scalar_type());
  for (auto i = static_cast<std::size_t>(k); i < encoder->size(); ++i)
    x = encoder->at(i)->forward(x, mask_add);
  EncoderOutput out;
  out.last_hidden_state = x;
  out.attention_mask = attention_mask;
  if (has_pooler()) out.pooled = pooler->forward(x);
  return out;
}

namespace {
struct PointSpec {
  const char* suffix;
  InjectionKind kind;
  const char* hf;  // HF module path below encoder.layer.i
};
// The per-layer points, in order.
constexpr PointSpec kLayerPoints[] = {
    {"attn.q", InjectionKind::linear, "attention.self.query"},
    {"attn.k", InjectionKind::linear, "attention.self.key"},
    {"attn.v", InjectionKind::linear, "attention.self.value"},
    {"attn.o", InjectionKind::linear, "attention.output.dense"},
    {"ffn.in", InjectionKind::linear, "intermediate.dense"},
    {"ffn.out", InjectionKind::linear, "output.dense"},
    {"attn", InjectionKind::attention, "attention.self"},
    {"attn.output", InjectionKind::residual, "attention.output"},
    {"ffn.output", InjectionKind::residual, "output"},
    {"block", InjectionKind::block, ""},
};
}  // namespace

std::vector<InjectionPoint> EncoderModelImpl::injection_points() const {
  std::vector<InjectionPoint> out;
  const auto H = config_.hidden_size, I = config_.intermediate_size;
  out.push_back({"embeddings", InjectionKind::embeddings, -1, H, H, 0, "embeddings"});
  for (std::int64_t i = 0; i < config_.num_layers; ++i) {
    const std::string layer = "layer." + std::to_string(i) + ".";
    const std::string hf = "encoder.layer." + std::to_string(i);
    for (const auto& p : kLayerPoints) {
      std::int64_t in = H, outf = H;
      if (std::string(p.suffix) == "ffn.in") outf = I;
      if (std::string(p.suffix) == "ffn.out") in = I;
      out.push_back({layer + p.suffix, p.kind, static_cast<int>(i), in, outf,
                     p.kind == InjectionKind::attention ? config_.num_heads : 0,
                     *p.hf ? hf + "." + p.hf : hf});
    }
  }
  return out;
}

std::pair<std::size_t, std::string> EncoderModelImpl::parse_point(const std::string& name,
                                                                  InjectionKind kind) const {
  // "layer.<i>.<suffix>" with a suffix of the requested kind.
  if (name.rfind("layer.", 0) == 0) {
    const auto dot = name.find('.', 6);
    if (dot != std::string::npos) {
      const auto index = name.substr(6, dot - 6);
      const auto suffix = name.substr(dot + 1);
      const bool digits = !index.empty() && index.find_first_not_of("0123456789") == std::string::npos;
      if (digits && index.size() < 6) {
        const auto i = static_cast<std::size_t>(std::stoul(index));
        for (const auto& p : kLayerPoints)
          if (suffix == p.suffix && p.kind == kind && i < encoder->size()) return {i, suffix};
      }
    }
  }
  std::string names;
  for (const auto& p : kLayerPoints)
    if (p.kind == kind) names += std::string(names.empty() ? "" : ", ") + "layer.<i>." + p.suffix;
  throw_user_error(name, "not a " + std::string(injection_kind_name(kind)) + " injection point of this " +
                             std::to_string(encoder->size()) + "-layer model (" + names + ")");
}

InjectableLinear EncoderModelImpl::linear(const std::string& name) const {
  const auto [i, s] = parse_point(name, InjectionKind::linear);
  auto layer = encoder->at(i);
  if (s == "attn.q") return layer->attention->self->query;
  if (s == "attn.k") return layer->attention->self->key;
  if (s == "attn.v") return layer->attention->self->value;
  if (s == "attn.o") return layer->attention->output->dense;
  if (s == "ffn.in") return layer->intermediate->dense;
  return layer->output->dense;  // ffn.out
}

SublayerOutput EncoderModelImpl::residual(const std::string& name) const {
  const auto [i, s] = parse_point(name, InjectionKind::residual);
  auto layer = encoder->at(i);
  return s == "attn.output" ? layer->attention->output : layer->output;
}

SelfAttention EncoderModelImpl::attention_at(const std::string& name) const {
  const auto [i, s] = parse_point(name, InjectionKind::attention);
  return encoder->at(i)->attention->self;
}

EncoderLayer EncoderModelImpl::layer_at(const std::string& name) const {
  const auto [i, s] = parse_point(name, InjectionKind::block);
  return encoder->at(i);
}

}  // namespace autopeft::model
