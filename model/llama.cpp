#include "model/llama.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/torch.h>

#include <cmath>

#include "core/errors.h"
#include "model/encoder.h"  // activation()

namespace autopeft::model {

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  auto h = x.to(torch::kFloat32);
  h = h * torch::rsqrt(h.pow(2).mean(-1, true) + eps);
  return weight * h.to(x.scalar_type());
}

torch::Tensor rope_inverse_frequencies(std::int64_t head_dim, double theta, const RopeScaling& scaling) {
  const auto D = static_cast<double>(head_dim);
  auto inv_freq = torch::pow(theta, -torch::arange(0, head_dim, 2, torch::kFloat64) / D);
  if (scaling.type == "linear") inv_freq = inv_freq / scaling.factor;
  if (scaling.type == "llama3") {
    const double original = static_cast<double>(scaling.original_max_positions);
    const double low_wavelength = original / scaling.low_freq_factor;
    const double high_wavelength = original / scaling.high_freq_factor;
    const auto wavelength = 2 * M_PI / inv_freq;
    const auto low = torch::where(wavelength > low_wavelength, inv_freq / scaling.factor, inv_freq);
    const auto smooth = (original / wavelength - scaling.low_freq_factor) /
                        (scaling.high_freq_factor - scaling.low_freq_factor);
    const auto blended = (1 - smooth) * low / scaling.factor + smooth * low;
    const auto medium = wavelength.ge(high_wavelength).logical_and(wavelength.le(low_wavelength));
    inv_freq = torch::where(medium, blended, low);
  }
  return inv_freq.to(torch::kFloat32);
}

torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& positions,
                           const torch::Tensor& inv_freq) {
  const auto angles = positions.to(torch::kFloat32).unsqueeze(-1) * inv_freq;  // [B, S, D/2]
  const auto emb = torch::cat({angles, angles}, -1).unsqueeze(1);              // [B, 1, S, D]
  const auto cos = emb.cos().to(x.scalar_type()), sin = emb.sin().to(x.scalar_type());
  const auto halves = x.chunk(2, -1);
  const auto rotated = torch::cat({-halves[1], halves[0]}, -1);
  return x * cos + rotated * sin;
}

RmsNormImpl::RmsNormImpl(std::int64_t size, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({size}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) { return rms_norm(x, weight, eps_); }

namespace {

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  LlamaAttentionImpl(const DecoderConfig& c, std::int64_t layer) : c_(c), layer_(layer) {
    const auto H = c.hidden_size, qd = c.num_heads * c.head_dim, kvd = c.num_kv_heads * c.head_dim;
    q_proj = register_module("q_proj", InjectableLinear(H, qd, c.attention_bias));
    k_proj = register_module("k_proj", InjectableLinear(H, kvd, c.attention_bias));
    v_proj = register_module("v_proj", InjectableLinear(H, kvd, c.attention_bias));
    o_proj = register_module("o_proj", InjectableLinear(qd, H, c.attention_bias));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& positions, const torch::Tensor& bias,
                        KvCache* cache, const BlockHooks& hooks) {
    const auto B = x.size(0), S = x.size(1), D = c_.head_dim;
    auto q = q_proj->forward(x).view({B, S, c_.num_heads, D}).transpose(1, 2);
    auto k = k_proj->forward(x).view({B, S, c_.num_kv_heads, D}).transpose(1, 2);
    auto v = v_proj->forward(x).view({B, S, c_.num_kv_heads, D}).transpose(1, 2);
    // The frequencies are computed once, kept as numbers (a tensor made under inference mode could
    // not enter a training step later).
    if (inv_freq_.empty()) {
      const auto f = rope_inverse_frequencies(c_.head_dim, c_.rope_theta, c_.rope_scaling).contiguous();
      inv_freq_.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
    }
    const auto inv_freq = torch::tensor(inv_freq_, torch::kFloat32).to(x.device());
    q = apply_rotary(q, positions, inv_freq);
    k = apply_rotary(k, positions, inv_freq);
    if (cache) std::tie(k, v) = cache->append(static_cast<std::size_t>(layer_), k, v);
    auto b = bias;
    prepend_prefix(hooks.prefix, x, k, v, b);  // keys not rotated: they have no position
    auto context = grouped_attention(q, k, v, b, 1.0 / std::sqrt(static_cast<double>(D)), c_.attn_dropout,
                                     is_training());
    return o_proj->forward(context);
  }
  InjectableLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  DecoderConfig c_;
  std::int64_t layer_;
  std::vector<float> inv_freq_;
};
TORCH_MODULE(LlamaAttention);

class LlamaMlpImpl : public torch::nn::Module {
 public:
  explicit LlamaMlpImpl(const DecoderConfig& c) : act_(c.activation) {
    gate_proj =
        register_module("gate_proj", InjectableLinear(c.hidden_size, c.intermediate_size, c.mlp_bias));
    up_proj = register_module("up_proj", InjectableLinear(c.hidden_size, c.intermediate_size, c.mlp_bias));
    down_proj =
        register_module("down_proj", InjectableLinear(c.intermediate_size, c.hidden_size, c.mlp_bias));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return down_proj->forward(activation(act_, gate_proj->forward(x)) * up_proj->forward(x));
  }
  InjectableLinear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};

 private:
  std::string act_;
};
TORCH_MODULE(LlamaMlp);

class LlamaLayerImpl : public torch::nn::Module {
 public:
  LlamaLayerImpl(const DecoderConfig& c, std::int64_t layer) {
    input_layernorm = register_module("input_layernorm", RmsNorm(c.hidden_size, c.norm_eps));
    self_attn = register_module("self_attn", LlamaAttention(c, layer));
    post_attention_layernorm =
        register_module("post_attention_layernorm", RmsNorm(c.hidden_size, c.norm_eps));
    mlp = register_module("mlp", LlamaMlp(c));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& positions, const torch::Tensor& bias,
                        KvCache* cache, const BlockHooks& hooks) {
    auto h = residual_add(hooks.attn_output,
                          self_attn->forward(input_layernorm->forward(x), positions, bias, cache, hooks), x);
    return residual_add(hooks.ffn_output, mlp->forward(post_attention_layernorm->forward(h)), h);
  }
  RmsNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  LlamaAttention self_attn{nullptr};
  LlamaMlp mlp{nullptr};
};
TORCH_MODULE(LlamaLayer);

class LlamaModelImpl : public torch::nn::Module {
 public:
  explicit LlamaModelImpl(const DecoderConfig& c) {
    embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
    layers = register_module("layers", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < c.num_layers; ++i) layers->push_back(LlamaLayer(c, i));
    norm = register_module("norm", RmsNorm(c.hidden_size, c.norm_eps));
  }
  LlamaLayer layer(std::size_t i) const { return LlamaLayer(layers->ptr<LlamaLayerImpl>(i)); }
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RmsNorm norm{nullptr};
};
TORCH_MODULE(LlamaModel);

const std::vector<std::string> kPoints = {"attn.q",   "attn.k", "attn.v", "attn.o",
                                          "ffn.gate", "ffn.in", "ffn.out"};

class LlamaLmImpl : public CausalLmImpl {
 public:
  explicit LlamaLmImpl(const DecoderConfig& c) : c_(c) {
    model = register_module("model", LlamaModel(c));
    if (!c.tie_word_embeddings)
      lm_head = register_module("lm_head", InjectableLinear(c.hidden_size, c.vocab_size, false));
  }

  CausalLmOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                         KvCache* cache) override {
    const auto step = begin(input_ids, attention_mask, cache, model->embed_tokens);
    auto x = step.embeds;
    for (std::size_t i = 0; i < model->layers->size(); ++i)
      x = model->layer(i)->forward(x, step.positions, step.bias, cache, hooks(i));
    return output(step, model->norm->forward(x), lm_head);
  }

  const DecoderConfig& config() const override { return c_; }

  InjectableLinear linear(const std::string& name) const override {
    const auto [i, s] = detail::parse_layer_point(name, kPoints, c_.num_layers);
    auto l = model->layer(i);
    if (s == "attn.q") return l->self_attn->q_proj;
    if (s == "attn.k") return l->self_attn->k_proj;
    if (s == "attn.v") return l->self_attn->v_proj;
    if (s == "attn.o") return l->self_attn->o_proj;
    if (s == "ffn.gate") return l->mlp->gate_proj;
    if (s == "ffn.in") return l->mlp->up_proj;
    return l->mlp->down_proj;
  }

  torch::Tensor word_embeddings() const override { return model->embed_tokens->weight; }

  LlamaModel model{nullptr};
  InjectableLinear lm_head{nullptr};

 protected:
  std::vector<InjectionPoint> linear_points() const override {
    std::vector<InjectionPoint> out;
    const auto H = c_.hidden_size, I = c_.intermediate_size, qd = c_.num_heads * c_.head_dim,
               kvd = c_.num_kv_heads * c_.head_dim;
    for (std::int64_t i = 0; i < c_.num_layers; ++i) {
      const std::string l = "layer." + std::to_string(i) + ".",
                        hf = block_path(static_cast<std::size_t>(i)) + ".";
      const int li = static_cast<int>(i);
      out.push_back({l + "attn.q", InjectionKind::linear, li, H, qd, 0, hf + "self_attn.q_proj"});
      out.push_back({l + "attn.k", InjectionKind::linear, li, H, kvd, 0, hf + "self_attn.k_proj"});
      out.push_back({l + "attn.v", InjectionKind::linear, li, H, kvd, 0, hf + "self_attn.v_proj"});
      out.push_back({l + "attn.o", InjectionKind::linear, li, qd, H, 0, hf + "self_attn.o_proj"});
      out.push_back({l + "ffn.gate", InjectionKind::linear, li, H, I, 0, hf + "mlp.gate_proj"});
      out.push_back({l + "ffn.in", InjectionKind::linear, li, H, I, 0, hf + "mlp.up_proj"});
      out.push_back({l + "ffn.out", InjectionKind::linear, li, I, H, 0, hf + "mlp.down_proj"});
    }
    return out;
  }
  torch::nn::Module& block_module(std::size_t i) override { return *model->layer(i); }
  torch::nn::Module& attention_module(std::size_t i) override { return *model->layer(i)->self_attn; }
  std::string block_path(std::size_t i) const override { return "model.layers." + std::to_string(i); }
  std::string attention_path(std::size_t i) const override { return block_path(i) + ".self_attn"; }

 private:
  DecoderConfig c_;
};

}  // namespace

std::shared_ptr<CausalLmImpl> make_llama(const DecoderConfig& config) {
  return std::make_shared<LlamaLmImpl>(config);
}

}  // namespace autopeft::model
