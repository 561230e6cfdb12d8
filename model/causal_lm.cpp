#include "model/causal_lm.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "model/checkpoint_loading.h"
#include "model/encoder.h"  // mask_lowest
#include "model/format/checkpoint_files.h"
#include "model/gpt2.h"
#include "model/llama.h"
#include "model/tensor_io.h"

namespace autopeft::model {

void KvCache::select(const torch::Tensor& index) {
  for (auto& k : keys)
    if (k.defined()) k = k.index_select(0, index);
  for (auto& v : values)
    if (v.defined()) v = v.index_select(0, index);
}

std::pair<torch::Tensor, torch::Tensor> KvCache::append(std::size_t layer, const torch::Tensor& k,
                                                        const torch::Tensor& v) {
  if (keys.size() <= layer) {
    keys.resize(layer + 1);
    values.resize(layer + 1);
  }
  keys[layer] = keys[layer].defined() ? torch::cat({keys[layer], k}, 2) : k;
  values[layer] = values[layer].defined() ? torch::cat({values[layer], v}, 2) : v;
  return {keys[layer], values[layer]};
}

torch::Tensor decoder_positions(const torch::Tensor& attention_mask, std::int64_t past, std::int64_t length,
                                const torch::Device& device) {
  auto opts = torch::TensorOptions().dtype(torch::kInt64).device(device);
  if (!attention_mask.defined()) return torch::arange(past, past + length, opts).unsqueeze(0);
  if (attention_mask.size(1) != past + length)
    throw_user_error("attention_mask", "covers " + std::to_string(attention_mask.size(1)) +
                                           " tokens, expected " + std::to_string(past + length) +
                                           " (cached and new)");
  auto m = attention_mask.to(torch::kInt64);
  auto pos = (torch::cumsum(m, 1) - 1).clamp_min(0);
  return pos.narrow(1, past, length).to(device);
}

torch::Tensor causal_attention_bias(const torch::Tensor& attention_mask, std::int64_t past,
                                    std::int64_t length, torch::ScalarType dtype,
                                    const torch::Device& device) {
  const auto total = past + length;
  auto opts = torch::TensorOptions().dtype(torch::kInt64).device(device);
  const auto q = torch::arange(past, total, opts).unsqueeze(1);  // [S, 1]
  const auto k = torch::arange(0, total, opts).unsqueeze(0);     // [1, T]
  auto allowed = k.le(q).unsqueeze(0).unsqueeze(0);              // [1, 1, S, T]
  if (attention_mask.defined()) {
    auto keys = attention_mask.to(device).to(torch::kBool).unsqueeze(1).unsqueeze(2);  // [B, 1, 1, T]
    allowed = allowed.logical_and(keys).logical_or(k.eq(q).unsqueeze(0).unsqueeze(0));
  }
  return torch::zeros(allowed.sizes(), torch::TensorOptions().dtype(dtype).device(device))
      .masked_fill(allowed.logical_not(), mask_lowest(dtype));
}

DecoderStep CausalLmImpl::begin(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                const KvCache* cache, torch::nn::Embedding wte) const {
  if (input_ids.dim() != 2)
    throw_user_error("input_ids",
                     "expected [batch, tokens], got " + std::to_string(input_ids.dim()) + " dims");
  DecoderStep step;
  step.ids = input_ids.to(torch::kInt64);
  step.past = cache ? cache->length() : 0;
  step.embeds = wte->forward(step.ids);
  auto mask = attention_mask;
  if (embedding_hook_) {
    const auto B = step.ids.size(0), N = embedding_hook_->length();
    if (step.past == 0) {
      if (!mask.defined()) mask = torch::ones_like(step.ids);
      std::tie(step.embeds, mask) = embedding_hook_->forward(step.embeds, mask);
      step.prompt = N;
    } else if (mask.defined()) {  // the cache holds the prompt; the caller's mask does not
      mask = torch::cat({torch::ones({B, N}, mask.options()), mask}, 1);
    }
  }
  const auto S = step.embeds.size(1);
  const auto device = step.ids.device();
  step.positions = decoder_positions(mask, step.past, S, device);
  step.bias = causal_attention_bias(mask, step.past, S, wte->weight.scalar_type(), device);
  return step;
}

CausalLmOutput CausalLmImpl::output(const DecoderStep& step, const torch::Tensor& hidden,
                                    InjectableLinear head) const {
  CausalLmOutput out;
  out.last_hidden_state = hidden.narrow(1, step.prompt, hidden.size(1) - step.prompt);
  out.logits = lm_logits(out.last_hidden_state, head, word_embeddings());
  return out;
}

const BlockHooks& CausalLmImpl::hooks(std::size_t layer) const {
  static const BlockHooks none;
  return layer < hooks_.size() ? hooks_[layer] : none;
}

std::vector<InjectionPoint> CausalLmImpl::injection_points() const {
  const auto& c = config();
  const auto H = c.hidden_size, kv = c.num_kv_heads * c.head_dim;
  const auto linear = linear_points();  // in layer order
  std::vector<InjectionPoint> out;
  std::size_t next = 0;
  for (std::int64_t i = 0; i < c.num_layers; ++i) {
    const auto l = static_cast<std::size_t>(i);
    const std::string name = "layer." + std::to_string(i) + ".";
    while (next < linear.size() && linear[next].layer == i) out.push_back(linear[next++]);
    const int li = static_cast<int>(i);
    out.push_back({name + "attn", InjectionKind::attention, li, H, kv, c.num_kv_heads, attention_path(l)});
    out.push_back({name + "attn.output", InjectionKind::residual, li, H, H, 0, block_path(l)});
    out.push_back({name + "ffn.output", InjectionKind::residual, li, H, H, 0, block_path(l)});
  }
  out.push_back({"embeddings", InjectionKind::embeddings, -1, H, H, 0,
                 c.base_prefix() + (c.family == DecoderFamily::gpt2 ? "wte" : "embed_tokens")});
  return out;
}

void CausalLmImpl::set_residual_hook(const std::string& name, std::shared_ptr<ResidualHook> hook) {
  const auto [i, s] = detail::parse_layer_point(name, {"attn.output", "ffn.output"}, config().num_layers);
  hooks_.resize(static_cast<std::size_t>(config().num_layers));
  // AdapterHub's module names for GPT-2's two adapter places.
  if (s == "attn.output")
    replace_submodule(block_module(i), "attention_adapters", hooks_[i].attn_output, std::move(hook));
  else
    replace_submodule(block_module(i), "output_adapters", hooks_[i].ffn_output, std::move(hook));
}

void CausalLmImpl::set_prefix(const std::string& name, std::shared_ptr<PrefixProvider> prefix) {
  const auto [i, s] = detail::parse_layer_point(name, {"attn"}, config().num_layers);
  hooks_.resize(static_cast<std::size_t>(config().num_layers));
  replace_submodule(attention_module(i), "prefix", hooks_[i].prefix, std::move(prefix));
}

std::shared_ptr<PrefixProvider> CausalLmImpl::prefix(const std::string& name) const {
  const auto [i, s] = detail::parse_layer_point(name, {"attn"}, config().num_layers);
  return hooks(i).prefix;
}

void CausalLmImpl::set_embedding_hook(std::shared_ptr<EmbeddingHook> hook) {
  replace_submodule(*this, "embedding_hook", embedding_hook_, std::move(hook));
}

torch::Tensor residual_add(const std::shared_ptr<ResidualHook>& hook, const torch::Tensor& h,
                           const torch::Tensor& r) {
  if (!hook) return h + r;
  torch::nn::LayerNorm none{nullptr};
  return hook->forward(h, r, none);
}

void prepend_prefix(const std::shared_ptr<PrefixProvider>& prefix, const torch::Tensor& x, torch::Tensor& k,
                    torch::Tensor& v, torch::Tensor& bias) {
  if (!prefix) return;
  auto [pk, pv] = prefix->forward(x);
  k = torch::cat({pk.to(k.dtype()), k}, 2);
  v = torch::cat({pv.to(v.dtype()), v}, 2);
  auto zeros = torch::zeros({bias.size(0), bias.size(1), bias.size(2), pk.size(2)}, bias.options());
  bias = torch::cat({zeros, bias}, 3);
}

torch::Tensor lm_logits(const torch::Tensor& hidden, InjectableLinear head, const torch::Tensor& embeddings) {
  return head.is_empty() ? torch::matmul(hidden, embeddings.t()) : head->forward(hidden);
}

torch::Tensor grouped_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                const torch::Tensor& bias, double scale, double dropout, bool training) {
  const auto B = q.size(0), H = q.size(1), S = q.size(2), D = q.size(3), KV = k.size(1);
  auto kk = k, vv = v;
  if (KV != H) {
    kk = k.repeat_interleave(H / KV, 1);
    vv = v.repeat_interleave(H / KV, 1);
  }
  auto scores = torch::matmul(q, kk.transpose(-1, -2)) * scale + bias;
  auto probs = torch::softmax(scores.to(torch::kFloat32), -1).to(q.scalar_type());
  if (training && dropout > 0) probs = torch::dropout(probs, dropout, true);
  return torch::matmul(probs, vv).transpose(1, 2).reshape({B, S, H * D});
}

namespace detail {
std::pair<std::size_t, std::string> parse_layer_point(const std::string& name,
                                                      const std::vector<std::string>& suffixes,
                                                      std::int64_t layers) {
  if (name.rfind("layer.", 0) == 0) {
    const auto dot = name.find('.', 6);
    if (dot != std::string::npos) {
      const auto index = name.substr(6, dot - 6);
      const auto suffix = name.substr(dot + 1);
      const bool digits =
          !index.empty() && index.size() < 6 && index.find_first_not_of("0123456789") == std::string::npos;
      if (digits && std::stoll(index) < layers)
        for (const auto& s : suffixes)
          if (s == suffix) return {static_cast<std::size_t>(std::stoul(index)), suffix};
    }
  }
  std::string names;
  for (const auto& s : suffixes) names += (names.empty() ? "" : ", ") + ("layer.<i>." + s);
  throw_user_error(
      name, "not an injection point of this " + std::to_string(layers) + "-layer model (" + names + ")");
}
}  // namespace detail

std::shared_ptr<CausalLmImpl> make_causal_lm(const DecoderConfig& config) {
  auto model = config.family == DecoderFamily::gpt2 ? make_gpt2(config) : make_llama(config);
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) {
    const auto& name = p.key();
    const bool norm = name.find("ln_") != std::string::npos || name.find("norm") != std::string::npos;
    if (norm) {
      p.value().fill_(name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0 ? 0.0 : 1.0);
    } else if (p.value().dim() == 1) {
      p.value().zero_();
    } else {
      p.value().normal_(0.0, 0.02);
    }
  }
  return model;
}

void save_causal_lm(const std::string& dir, CausalLmImpl& model, const nlohmann::json& config_json) {
  std::filesystem::create_directories(dir);
  std::ofstream(std::filesystem::path(dir) / "config.json") << config_json.dump(2) << "\n";
  const bool gpt2 = model.config().family == DecoderFamily::gpt2;
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& p : model.named_parameters()) {
    auto t = p.value().detach().to(torch::kCPU);
    tensors.emplace_back(p.key(), gpt2 && gpt2_key_is_conv1d(p.key()) ? t.t().contiguous() : t);
  }
  save_safetensors((std::filesystem::path(dir) / "model.safetensors").string(), tensors);
}

namespace {

// Keys transformers keeps in checkpoints that are not parameters.
bool ignored_key(const std::string& key) {
  auto ends = [&](const std::string& s) {
    return key.size() >= s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".attn.bias") || ends(".attn.masked_bias") || ends("rotary_emb.inv_freq");
}

}  // namespace

LoadedCausalLm load_causal_lm(const std::string& dir, const DecoderLoadOptions& options) {
  LoadedCausalLm out;
  out.config = load_decoder_config(dir);
  const auto& cfg = out.config;
  const bool gpt2 = cfg.family == DecoderFamily::gpt2;
  CheckpointFiles files(dir);
  // Our key -> checkpoint key. GPT-2 files written by the original scripts have no
  // "transformer." prefix ("h.0.attn.c_attn.weight").
  const std::string prefix = cfg.base_prefix();
  std::map<std::string, std::string> ours_to_file;
  for (const auto& [key, entry] : files.tensors()) {
    if (ignored_key(key) || (cfg.tie_word_embeddings && key == "lm_head.weight")) {
      out.ignored.push_back(key);
      continue;
    }
    std::string k = key;
    if (gpt2 && k.rfind(prefix, 0) != 0 && k.rfind("lm_head.", 0) != 0) k = prefix + k;
    if (!ours_to_file.emplace(k, key).second)
      throw_user_error(dir,
                       "checkpoint keys '" + ours_to_file[k] + "' and '" + key + "' name the same weight");
  }
  out.model = gpt2 ? make_gpt2(cfg) : make_llama(cfg);
  const auto match = copy_parameters(*out.model, files, ours_to_file, [&](const std::string& name) {
    return gpt2 && gpt2_key_is_conv1d(name);
  });
  throw_on_key_problems(dir, cfg.model_type, match, options.allow_unexpected);
  out.model->to(options.device, options.dtype);
  out.model->eval();
  return out;
}

}  // namespace autopeft::model
