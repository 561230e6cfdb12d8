#include "model/t5.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "model/checkpoint_loading.h"
#include "model/encoder.h"  // activation(), additive_attention_mask()
#include "model/llama.h"    // RmsNorm (T5LayerNorm)
#include "model/tensor_io.h"

namespace autopeft::model {

Seq2SeqOutput T5ModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                   const torch::Tensor& decoder_input_ids) {
  const auto mask = attention_mask.defined() ? attention_mask : torch::ones_like(input_ids);
  auto hidden = encode(input_ids, mask);
  auto out = decode(decoder_input_ids, hidden, mask);
  out.encoder_hidden_state = hidden;
  return out;
}

namespace {

class T5AttentionImpl : public torch::nn::Module {
 public:
  T5AttentionImpl(const T5Config& c, bool relative_bias, bool bidirectional)
      : c_(c), bidirectional_(bidirectional) {
    const auto D = c.d_model, I = c.inner_dim();
    q = register_module("q", InjectableLinear(D, I, false));
    k = register_module("k", InjectableLinear(D, I, false));
    v = register_module("v", InjectableLinear(D, I, false));
    o = register_module("o", InjectableLinear(I, D, false));
    if (relative_bias)
      relative_attention_bias = register_module(
          "relative_attention_bias", torch::nn::Embedding(c.relative_attention_num_buckets, c.num_heads));
  }

  // The relative-position bias [1, H, S, T] of queries at past..past+S-1 and keys 0..T-1.
  torch::Tensor position_bias(std::int64_t past, std::int64_t S, std::int64_t T,
                              const torch::Device& device) {
    // One bucket per relative distance key - query, from -(past + S - 1) to T - 1.
    const std::int64_t lo = -(past + S - 1);
    std::vector<std::int64_t> table;
    for (std::int64_t r = lo; r <= T - 1; ++r)
      table.push_back(t5_relative_position_bucket(r, bidirectional_, c_.relative_attention_num_buckets,
                                                  c_.relative_attention_max_distance));
    auto opts = torch::TensorOptions().dtype(torch::kInt64).device(device);
    const auto rel = torch::arange(T, opts).unsqueeze(0) - torch::arange(past, past + S, opts).unsqueeze(1);
    const auto buckets = torch::tensor(table, torch::kInt64).to(device).index({rel - lo});  // [S, T]
    return relative_attention_bias->forward(buckets).permute({2, 0, 1}).unsqueeze(0);       // [1, H, S, T]
  }

  // x [B, S, D]; `memory` the encoder output for cross-attention (undefined: self-attention);
  // bias [*, H or 1, S, T] added to the scores; the cache of this layer is extended (self) or
  // filled once (cross).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& memory, const torch::Tensor& bias,
                        KvCache* cache, std::size_t layer, bool training) {
    const auto B = x.size(0), H = c_.num_heads, Dk = c_.d_kv;
    auto heads = [&](const torch::Tensor& t) { return t.view({B, -1, H, Dk}).transpose(1, 2); };
    auto qh = heads(q->forward(x));
    torch::Tensor kh, vh;
    if (memory.defined()) {
      if (cache && cache->keys.size() > layer && cache->keys[layer].defined()) {
        kh = cache->keys[layer];
        vh = cache->values[layer];
      } else {
        kh = heads(k->forward(memory));
        vh = heads(v->forward(memory));
        if (cache) cache->append(layer, kh, vh);
      }
    } else {
      kh = heads(k->forward(x));
      vh = heads(v->forward(x));
      if (cache) std::tie(kh, vh) = cache->append(layer, kh, vh);
    }
    auto b = bias;
    prepend_prefix(prefix_, x, kh, vh, b);
    // No 1/sqrt(d) scaling: T5 folds it into the initialisation.
    auto context = grouped_attention(qh, kh, vh, b, 1.0, c_.dropout, training);
    return o->forward(context);
  }
  void set_prefix(std::shared_ptr<PrefixProvider> prefix) {
    replace_submodule(*this, "prefix", prefix_, std::move(prefix));
  }
  std::shared_ptr<PrefixProvider> prefix() const { return prefix_; }

  InjectableLinear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
  torch::nn::Embedding relative_attention_bias{nullptr};

 private:
  T5Config c_;
  bool bidirectional_;
  std::shared_ptr<PrefixProvider> prefix_;
};
TORCH_MODULE(T5Attention);

// layer.<n> of a block: a norm and one of attention / cross-attention / FFN.
class T5SublayerImpl : public torch::nn::Module {
 public:
  enum Kind { self_attention, cross_attention, feed_forward };
  T5SublayerImpl(const T5Config& c, Kind kind, bool relative_bias, bool bidirectional) : kind_(kind), c_(c) {
    if (kind == self_attention)
      attention = register_module("SelfAttention", T5Attention(c, relative_bias, bidirectional));
    if (kind == cross_attention) attention = register_module("EncDecAttention", T5Attention(c, false, true));
    if (kind == feed_forward) {
      auto ff = std::make_shared<torch::nn::Module>();
      if (c.gated) {
        wi_0 = ff->register_module("wi_0", InjectableLinear(c.d_model, c.d_ff, false));
        wi_1 = ff->register_module("wi_1", InjectableLinear(c.d_model, c.d_ff, false));
      } else {
        wi = ff->register_module("wi", InjectableLinear(c.d_model, c.d_ff, false));
      }
      wo = ff->register_module("wo", InjectableLinear(c.d_ff, c.d_model, false));
      register_module("DenseReluDense", ff);
    }
    layer_norm = register_module("layer_norm", RmsNorm(c.d_model, c.layer_norm_eps));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& memory, const torch::Tensor& bias,
                        KvCache* cache, std::size_t layer) {
    auto drop = [&](const torch::Tensor& t) { return torch::dropout(t, c_.dropout, is_training()); };
    const auto h = layer_norm->forward(x);
    if (kind_ != feed_forward)
      return residual_add(adapters_, drop(attention->forward(h, memory, bias, cache, layer, is_training())),
                          x);
    auto inner = c_.gated ? activation(c_.activation, wi_0->forward(h)) * wi_1->forward(h)
                          : activation(c_.activation, wi->forward(h));
    return residual_add(adapters_, drop(wo->forward(drop(inner))), x);
  }
  // AdapterHub keeps a T5 sublayer's adapters in it, as "adapters".
  void set_adapters(std::shared_ptr<ResidualHook> hook) {
    replace_submodule(*this, "adapters", adapters_, std::move(hook));
  }

  T5Attention attention{nullptr};
  InjectableLinear wi{nullptr}, wi_0{nullptr}, wi_1{nullptr}, wo{nullptr};
  RmsNorm layer_norm{nullptr};

 private:
  Kind kind_;
  T5Config c_;
  std::shared_ptr<ResidualHook> adapters_;
};
TORCH_MODULE(T5Sublayer);

class T5BlockImpl : public torch::nn::Module {
 public:
  T5BlockImpl(const T5Config& c, bool decoder, bool first) : decoder_(decoder) {
    layer = register_module("layer", torch::nn::ModuleList());
    layer->push_back(T5Sublayer(c, T5SublayerImpl::self_attention, first, !decoder));
    if (decoder) layer->push_back(T5Sublayer(c, T5SublayerImpl::cross_attention, false, true));
    layer->push_back(T5Sublayer(c, T5SublayerImpl::feed_forward, false, true));
  }
  T5Sublayer sub(std::size_t i) const { return T5Sublayer(layer->ptr<T5SublayerImpl>(i)); }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& self_bias, const torch::Tensor& memory,
                        const torch::Tensor& cross_bias, Seq2SeqCache* cache, std::size_t index) {
    auto h = sub(0)->forward(x, {}, self_bias, cache ? &cache->self : nullptr, index);
    if (decoder_) h = sub(1)->forward(h, memory, cross_bias, cache ? &cache->cross : nullptr, index);
    return sub(decoder_ ? 2 : 1)->forward(h, {}, {}, nullptr, index);
  }
  torch::nn::ModuleList layer{nullptr};

 private:
  bool decoder_;
};
TORCH_MODULE(T5Block);

class T5StackImpl : public torch::nn::Module {
 public:
  T5StackImpl(const T5Config& c, bool decoder) {
    const auto n = decoder ? c.num_decoder_layers : c.num_layers;
    block = register_module("block", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < n; ++i) block->push_back(T5Block(c, decoder, i == 0));
    final_layer_norm = register_module("final_layer_norm", RmsNorm(c.d_model, c.layer_norm_eps));
  }
  T5Block at(std::size_t i) const { return T5Block(block->ptr<T5BlockImpl>(i)); }
  torch::nn::ModuleList block{nullptr};
  RmsNorm final_layer_norm{nullptr};
};
TORCH_MODULE(T5Stack);

class T5ForConditionalGenerationImpl : public T5ModelImpl {
 public:
  explicit T5ForConditionalGenerationImpl(const T5Config& c) : c_(c) {
    shared = register_module("shared", torch::nn::Embedding(c.vocab_size, c.d_model));
    encoder = register_module("encoder", T5Stack(c, false));
    decoder = register_module("decoder", T5Stack(c, true));
    if (!c.tie_word_embeddings)
      lm_head = register_module("lm_head", InjectableLinear(c.d_model, c.vocab_size, false));
  }

  torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) override {
    check_ids(input_ids, "input_ids");
    const auto ids = input_ids.to(torch::kInt64);
    auto mask = attention_mask.defined() ? attention_mask : torch::ones_like(ids);
    auto x = shared->forward(ids);
    if (embedding_hook_) std::tie(x, mask) = embedding_hook_->forward(x, mask);
    x = drop(x);
    const auto S = x.size(1);
    auto first = encoder->at(0)->sub(0)->attention;
    const auto bias = first->position_bias(0, S, S, ids.device()).to(x.scalar_type()) +
                      additive_attention_mask(mask.to(ids.device()), x.scalar_type());
    for (std::size_t i = 0; i < encoder->block->size(); ++i)
      x = encoder->at(i)->forward(x, bias, {}, {}, nullptr, i);
    return drop(encoder->final_layer_norm->forward(x));
  }

  Seq2SeqOutput decode(const torch::Tensor& decoder_input_ids, const torch::Tensor& memory,
                       const torch::Tensor& encoder_mask, Seq2SeqCache* cache) override {
    check_ids(decoder_input_ids, "decoder_input_ids");
    const auto ids = decoder_input_ids.to(torch::kInt64);
    const auto past = cache ? cache->self.length() : 0;
    const auto S = ids.size(1);
    auto x = drop(shared->forward(ids));
    auto first = decoder->at(0)->sub(0)->attention;
    const auto self_bias = first->position_bias(past, S, past + S, ids.device()).to(x.scalar_type()) +
                           causal_attention_bias({}, past, S, x.scalar_type(), ids.device());
    auto mask =
        encoder_mask.defined() ? encoder_mask : torch::ones({memory.size(0), memory.size(1)}, ids.options());
    if (mask.size(1) < memory.size(1))  // a prompt in front of the encoder's input
      mask =
          torch::cat({torch::ones({mask.size(0), memory.size(1) - mask.size(1)}, mask.options()), mask}, 1);
    const auto cross_bias = additive_attention_mask(mask.to(ids.device()), x.scalar_type());
    for (std::size_t i = 0; i < decoder->block->size(); ++i)
      x = decoder->at(i)->forward(x, self_bias, memory, cross_bias, cache, i);
    Seq2SeqOutput out;
    out.last_hidden_state = drop(decoder->final_layer_norm->forward(x));
    auto h = out.last_hidden_state;
    if (c_.scale_decoder_outputs) h = h * std::pow(static_cast<double>(c_.d_model), -0.5);
    out.logits = lm_logits(h, lm_head, shared->weight);
    return out;
  }

  const T5Config& config() const override { return c_; }

  std::vector<InjectionPoint> injection_points() const override {
    std::vector<InjectionPoint> out;
    const auto D = c_.d_model, I = c_.inner_dim(), F = c_.d_ff;
    for (const bool dec : {false, true}) {
      const std::string stack = dec ? "decoder" : "encoder";
      const auto n = dec ? c_.num_decoder_layers : c_.num_layers;
      for (std::int64_t i = 0; i < n; ++i) {
        const std::string l = stack + ".layer." + std::to_string(i) + ".";
        const std::string hf = stack + ".block." + std::to_string(i) + ".layer.";
        const int li = static_cast<int>(i);
        for (const char* p : {"q", "k", "v"})
          out.push_back({l + "attn." + p, InjectionKind::linear, li, D, I, 0, hf + "0.SelfAttention." + p});
        out.push_back({l + "attn.o", InjectionKind::linear, li, I, D, 0, hf + "0.SelfAttention.o"});
        if (dec) {
          for (const char* p : {"q", "k", "v"})
            out.push_back(
                {l + "cross." + p, InjectionKind::linear, li, D, I, 0, hf + "1.EncDecAttention." + p});
          out.push_back({l + "cross.o", InjectionKind::linear, li, I, D, 0, hf + "1.EncDecAttention.o"});
        }
        const std::string ff = hf + (dec ? "2" : "1") + ".DenseReluDense.";
        if (c_.gated) {
          out.push_back({l + "ffn.gate", InjectionKind::linear, li, D, F, 0, ff + "wi_0"});
          out.push_back({l + "ffn.in", InjectionKind::linear, li, D, F, 0, ff + "wi_1"});
        } else {
          out.push_back({l + "ffn.in", InjectionKind::linear, li, D, F, 0, ff + "wi"});
        }
        out.push_back({l + "ffn.out", InjectionKind::linear, li, F, D, 0, ff + "wo"});
        const auto H = c_.num_heads;
        out.push_back({l + "attn", InjectionKind::attention, li, D, I, H, hf + "0.SelfAttention"});
        if (dec)
          out.push_back({l + "cross", InjectionKind::attention, li, D, I, H, hf + "1.EncDecAttention"});
        out.push_back({l + "attn.output", InjectionKind::residual, li, D, D, 0, hf + "0"});
        out.push_back({l + "ffn.output", InjectionKind::residual, li, D, D, 0, hf + (dec ? "2" : "1")});
      }
    }
    out.push_back({"embeddings", InjectionKind::embeddings, -1, D, D, 0, "shared"});
    return out;
  }

  InjectableLinear linear(const std::string& name) const override {
    const bool dec = name.rfind("decoder.", 0) == 0;
    if (!dec && name.rfind("encoder.", 0) != 0)
      throw_user_error(name,
                       "not a linear injection point of this T5 (encoder.layer.<i>.*, decoder.layer.<i>.*)");
    std::vector<std::string> suffixes = {"attn.q", "attn.k", "attn.v", "attn.o", "ffn.in", "ffn.out"};
    if (c_.gated) suffixes.push_back("ffn.gate");
    if (dec)
      for (const char* s : {"cross.q", "cross.k", "cross.v", "cross.o"}) suffixes.push_back(s);
    const auto [i, s] =
        detail::parse_layer_point(name.substr(8), suffixes, dec ? c_.num_decoder_layers : c_.num_layers);
    auto block = (dec ? decoder : encoder)->at(i);
    if (s.rfind("attn.", 0) == 0 || s.rfind("cross.", 0) == 0) {
      auto a = block->sub(s[0] == 'a' ? 0 : 1)->attention;
      const char p = s.back();
      return p == 'q' ? a->q : p == 'k' ? a->k : p == 'v' ? a->v : a->o;
    }
    auto ff = block->sub(dec ? 2 : 1);
    if (s == "ffn.out") return ff->wo;
    if (s == "ffn.gate") return ff->wi_0;
    return c_.gated ? ff->wi_1 : ff->wi;
  }

  torch::Tensor word_embeddings() const override { return shared->weight; }

  std::string layer_point(std::int64_t layer, const std::string& suffix) const override {
    const bool dec = layer >= c_.num_layers;
    return std::string(dec ? "decoder" : "encoder") + ".layer." +
           std::to_string(dec ? layer - c_.num_layers : layer) + "." + suffix;
  }
  void set_residual_hook(const std::string& name, std::shared_ptr<ResidualHook> hook) override {
    const auto [dec, i, s] = parse_hook_point(name, {"attn.output", "ffn.output"});
    (dec ? decoder : encoder)
        ->at(i)
        ->sub(s == "attn.output" ? 0
              : dec              ? 2
                                 : 1)
        ->set_adapters(std::move(hook));
  }
  void set_prefix(const std::string& name, std::shared_ptr<PrefixProvider> prefix) override {
    attention_at(name)->set_prefix(std::move(prefix));
  }
  std::shared_ptr<PrefixProvider> prefix(const std::string& name) const override {
    return attention_at(name)->prefix();
  }
  void set_embedding_hook(std::shared_ptr<EmbeddingHook> hook) override {
    replace_submodule(*this, "embedding_hook", embedding_hook_, std::move(hook));
  }
  std::shared_ptr<EmbeddingHook> embedding_hook() const override { return embedding_hook_; }
  torch::nn::Module& module() override { return *this; }

  torch::nn::Embedding shared{nullptr};
  T5Stack encoder{nullptr}, decoder{nullptr};
  InjectableLinear lm_head{nullptr};

 private:
  struct HookPoint {
    bool decoder;
    std::size_t layer;
    std::string suffix;
  };
  // "{encoder,decoder}.layer.<i>.<suffix>" with one of `suffixes` ("cross" only in the decoder).
  HookPoint parse_hook_point(const std::string& name, std::vector<std::string> suffixes) const {
    const bool dec = name.rfind("decoder.", 0) == 0;
    if (!dec && name.rfind("encoder.", 0) != 0)
      throw_user_error(name, "not an injection point of this T5 (encoder.layer.<i>.*, decoder.layer.<i>.*)");
    if (!dec) suffixes.erase(std::remove(suffixes.begin(), suffixes.end(), "cross"), suffixes.end());
    const auto [i, s] =
        detail::parse_layer_point(name.substr(8), suffixes, dec ? c_.num_decoder_layers : c_.num_layers);
    return {dec, i, s};
  }
  T5Attention attention_at(const std::string& name) const {
    const auto [dec, i, s] = parse_hook_point(name, {"attn", "cross"});
    return (dec ? decoder : encoder)->at(i)->sub(s == "attn" ? 0 : 1)->attention;
  }
  std::shared_ptr<EmbeddingHook> embedding_hook_;
  torch::Tensor drop(const torch::Tensor& x) { return torch::dropout(x, c_.dropout, is_training()); }
  void check_ids(const torch::Tensor& ids, const char* what) const {
    if (ids.dim() != 2)
      throw_user_error(what, "expected [batch, tokens], got " + std::to_string(ids.dim()) + " dims");
  }
  T5Config c_;
};

}  // namespace

std::shared_ptr<T5ModelImpl> make_t5(const T5Config& config) {
  return std::make_shared<T5ForConditionalGenerationImpl>(config);
}

LoadedT5 load_t5(const std::string& dir, const DecoderLoadOptions& options) {
  LoadedT5 out;
  out.config = load_t5_config(dir);
  CheckpointFiles files(dir);
  std::map<std::string, std::string> ours_to_file;
  for (const auto& [key, entry] : files.tensors()) {
    // The stacks' embed_tokens are the shared table; a tied head repeats it too.
    if (key == "encoder.embed_tokens.weight" || key == "decoder.embed_tokens.weight" ||
        (out.config.tie_word_embeddings && key == "lm_head.weight")) {
      out.ignored.push_back(key);
      continue;
    }
    ours_to_file.emplace(key, key);
  }
  out.model = make_t5(out.config);
  throw_on_key_problems(dir, out.config.model_type, copy_parameters(*out.model, files, ours_to_file),
                        options.allow_unexpected);
  out.model->to(options.device, options.dtype);
  out.model->eval();
  return out;
}

void save_t5(const std::string& dir, T5ModelImpl& model, const nlohmann::json& config_json) {
  std::filesystem::create_directories(dir);
  std::ofstream(std::filesystem::path(dir) / "config.json") << config_json.dump(2) << "\n";
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& p : model.named_parameters())
    tensors.emplace_back(p.key(), p.value().detach().to(torch::kCPU));
  save_safetensors((std::filesystem::path(dir) / "model.safetensors").string(), tensors);
}

}  // namespace autopeft::model
