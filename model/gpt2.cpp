#include "model/gpt2.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>
#include <torch/torch.h>

#include <cmath>

#include "core/errors.h"
#include "model/encoder.h"  // activation()

namespace autopeft::model {

namespace {

torch::nn::LayerNorm layer_norm(const DecoderConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.norm_eps));
}

class Gpt2AttentionImpl : public torch::nn::Module {
 public:
  Gpt2AttentionImpl(const DecoderConfig& c, std::int64_t layer) : c_(c), layer_(layer) {
    c_attn = register_module("c_attn", InjectableLinear(c.hidden_size, 3 * c.hidden_size));
    c_proj = register_module("c_proj", InjectableLinear(c.hidden_size, c.hidden_size));
    resid_dropout_ = register_module("resid_dropout", torch::nn::Dropout(c.dropout));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias, KvCache* cache,
                        const BlockHooks& hooks) {
    const auto B = x.size(0), S = x.size(1), H = c_.num_heads, D = c_.head_dim;
    auto qkv = c_attn->forward(x).split(c_.hidden_size, -1);
    auto heads = [&](const torch::Tensor& t) { return t.view({B, S, H, D}).transpose(1, 2); };
    auto q = heads(qkv[0]), k = heads(qkv[1]), v = heads(qkv[2]);
    if (cache) std::tie(k, v) = cache->append(static_cast<std::size_t>(layer_), k, v);
    auto b = bias;
    prepend_prefix(hooks.prefix, x, k, v, b);
    double scale = c_.scale_attn_weights ? 1.0 / std::sqrt(static_cast<double>(D)) : 1.0;
    if (c_.scale_attn_by_inverse_layer_idx) scale /= static_cast<double>(layer_ + 1);
    auto context = grouped_attention(q, k, v, b, scale, c_.attn_dropout, is_training());
    return resid_dropout_->forward(c_proj->forward(context));
  }
  InjectableLinear c_attn{nullptr}, c_proj{nullptr};

 private:
  DecoderConfig c_;
  std::int64_t layer_;
  torch::nn::Dropout resid_dropout_{nullptr};
};
TORCH_MODULE(Gpt2Attention);

class Gpt2MlpImpl : public torch::nn::Module {
 public:
  explicit Gpt2MlpImpl(const DecoderConfig& c) : act_(c.activation) {
    c_fc = register_module("c_fc", InjectableLinear(c.hidden_size, c.intermediate_size));
    c_proj = register_module("c_proj", InjectableLinear(c.intermediate_size, c.hidden_size));
    dropout_ = register_module("dropout", torch::nn::Dropout(c.dropout));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return dropout_->forward(c_proj->forward(activation(act_, c_fc->forward(x))));
  }
  InjectableLinear c_fc{nullptr}, c_proj{nullptr};

 private:
  std::string act_;
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(Gpt2Mlp);

class Gpt2BlockImpl : public torch::nn::Module {
 public:
  Gpt2BlockImpl(const DecoderConfig& c, std::int64_t layer) {
    ln_1 = register_module("ln_1", layer_norm(c));
    attn = register_module("attn", Gpt2Attention(c, layer));
    ln_2 = register_module("ln_2", layer_norm(c));
    mlp = register_module("mlp", Gpt2Mlp(c));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias, KvCache* cache,
                        const BlockHooks& hooks) {
    auto h = residual_add(hooks.attn_output, attn->forward(ln_1->forward(x), bias, cache, hooks), x);
    return residual_add(hooks.ffn_output, mlp->forward(ln_2->forward(h)), h);
  }
  torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
  Gpt2Attention attn{nullptr};
  Gpt2Mlp mlp{nullptr};
};
TORCH_MODULE(Gpt2Block);

class Gpt2ModelImpl : public torch::nn::Module {
 public:
  explicit Gpt2ModelImpl(const DecoderConfig& c) {
    wte = register_module("wte", torch::nn::Embedding(c.vocab_size, c.hidden_size));
    wpe = register_module("wpe", torch::nn::Embedding(c.max_positions, c.hidden_size));
    drop = register_module("drop", torch::nn::Dropout(c.embed_dropout));
    h = register_module("h", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < c.num_layers; ++i) h->push_back(Gpt2Block(c, i));
    ln_f = register_module("ln_f", layer_norm(c));
  }
  Gpt2Block block(std::size_t i) const { return Gpt2Block(h->ptr<Gpt2BlockImpl>(i)); }
  torch::nn::Embedding wte{nullptr}, wpe{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::ModuleList h{nullptr};
  torch::nn::LayerNorm ln_f{nullptr};
};
TORCH_MODULE(Gpt2Model);

// attn.q, attn.k and attn.v are the three slices of the fused c_attn (see linear_slice()).
const std::vector<std::string> kPoints = {"attn.qkv", "attn.q", "attn.k", "attn.v",
                                          "attn.o",   "ffn.in", "ffn.out"};

class Gpt2LmImpl : public CausalLmImpl {
 public:
  explicit Gpt2LmImpl(const DecoderConfig& c) : c_(c) {
    transformer = register_module("transformer", Gpt2Model(c));
    if (!c.tie_word_embeddings)
      lm_head = register_module("lm_head", InjectableLinear(c.hidden_size, c.vocab_size, false));
  }

  CausalLmOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                         KvCache* cache) override {
    const auto step = begin(input_ids, attention_mask, cache, transformer->wte);
    const auto total = step.past + step.embeds.size(1);
    if (total > c_.max_positions)
      throw_user_error("input", std::to_string(total) + " tokens exceed the model's " +
                                    std::to_string(c_.max_positions) + " positions");
    auto x = transformer->drop->forward(step.embeds + transformer->wpe->forward(step.positions));
    for (std::size_t i = 0; i < transformer->h->size(); ++i)
      x = transformer->block(i)->forward(x, step.bias, cache, hooks(i));
    return output(step, transformer->ln_f->forward(x), lm_head);
  }

  const DecoderConfig& config() const override { return c_; }

  InjectableLinear linear(const std::string& name) const override {
    const auto [i, s] = detail::parse_layer_point(name, kPoints, c_.num_layers);
    return linear_at(i, s);
  }

  LinearSlice linear_slice(const std::string& name) const override {
    const auto [i, s] = detail::parse_layer_point(name, kPoints, c_.num_layers);
    const auto H = c_.hidden_size;
    auto l = linear_at(i, s);
    if (s == "attn.q") return {l, 0, H};
    if (s == "attn.k") return {l, H, H};
    if (s == "attn.v") return {l, 2 * H, H};
    return {l, 0, l->out_features};
  }

  torch::Tensor word_embeddings() const override { return transformer->wte->weight; }

  // The linear layer of point `s` ("attn.o", ...) in block i.
  InjectableLinear linear_at(std::size_t i, const std::string& s) const {
    auto b = transformer->block(i);
    if (s == "attn.o") return b->attn->c_proj;
    if (s == "ffn.in") return b->mlp->c_fc;
    if (s == "ffn.out") return b->mlp->c_proj;
    return b->attn->c_attn;  // attn.qkv and its slices
  }

  Gpt2Model transformer{nullptr};
  InjectableLinear lm_head{nullptr};

 protected:
  std::vector<InjectionPoint> linear_points() const override {
    std::vector<InjectionPoint> out;
    const auto H = c_.hidden_size, I = c_.intermediate_size;
    for (std::int64_t i = 0; i < c_.num_layers; ++i) {
      const std::string l = "layer." + std::to_string(i) + ".",
                        hf = block_path(static_cast<std::size_t>(i)) + ".";
      const int li = static_cast<int>(i);
      out.push_back({l + "attn.qkv", InjectionKind::linear, li, H, 3 * H, 0, hf + "attn.c_attn"});
      for (const char* part : {"q", "k", "v"})
        out.push_back({l + "attn." + part, InjectionKind::linear, li, H, H, 0, hf + "attn.c_attn"});
      out.push_back({l + "attn.o", InjectionKind::linear, li, H, H, 0, hf + "attn.c_proj"});
      out.push_back({l + "ffn.in", InjectionKind::linear, li, H, I, 0, hf + "mlp.c_fc"});
      out.push_back({l + "ffn.out", InjectionKind::linear, li, I, H, 0, hf + "mlp.c_proj"});
    }
    return out;
  }
  torch::nn::Module& block_module(std::size_t i) override { return *transformer->block(i); }
  torch::nn::Module& attention_module(std::size_t i) override { return *transformer->block(i)->attn; }
  std::string block_path(std::size_t i) const override { return "transformer.h." + std::to_string(i); }
  std::string attention_path(std::size_t i) const override { return block_path(i) + ".attn"; }

 private:
  DecoderConfig c_;
};

}  // namespace

std::shared_ptr<CausalLmImpl> make_gpt2(const DecoderConfig& config) {
  return std::make_shared<Gpt2LmImpl>(config);
}

bool gpt2_key_is_conv1d(const std::string& key) {
  for (const char* suffix :
       {"attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"}) {
    const std::string s(suffix);
    if (key.size() >= s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0) return true;
  }
  return false;
}

}  // namespace autopeft::model
