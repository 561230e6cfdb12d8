#include "peft/export.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "core/errors.h"
#include "core/files.h"
#include "core/logging.h"
#include "model/tensor_io.h"
#include "peft/modules/adapters.h"
#include "peft/modules/ia3.h"
#include "peft/modules/lora.h"
#include "peft/modules/prefix.h"
#include "peft/modules/prompt.h"
#include "peft/spec/hf_modules.h"
#include "peft/spec/methods/lora_spec.h"
#include "peft/spec/methods/prefix_ia3_specs.h"

namespace autopeft::peft {

namespace {

namespace fs = std::filesystem;
using Tensors = std::vector<std::pair<std::string, torch::Tensor>>;

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '.') out += "\\";
    out += c;
  }
  return out;
}

void write_json(const fs::path& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) throw_user_error(path.string(), "cannot write");
}

[[noreturn]] void cannot(const std::string& format, const std::string& part, const std::string& why) {
  throw_user_error("--format " + format, "cannot express " + part + ": " + why);
}

// Which methods the configuration uses, over all layers.
std::set<std::string> methods_used(const std::vector<nlohmann::json>& layers) {
  std::set<std::string> out;
  for (const auto& l : layers)
    for (auto it = l.begin(); it != l.end(); ++it) out.insert(it.key());
  return out;
}

// A regex (Python `re` syntax) matching exactly the given module paths: per stack (the path
// before its layer number), the layers with the same modules grouped, e.g.
// (.*\.)?encoder\.layer\.(0|2)\.(attention\.self\.query|attention\.self\.value).
std::string module_regex(const std::vector<std::string>& modules) {
  std::map<std::string, std::map<std::int64_t, std::vector<std::string>>> stacks;
  for (const auto& m : modules) {
    std::size_t dot = 0, end = 0;
    while ((dot = m.find('.', dot)) != std::string::npos) {
      end = m.find('.', dot + 1);
      if (end != std::string::npos && end > dot + 1 && m.find_first_not_of("0123456789", dot + 1) == end)
        break;
      ++dot;
    }
    if (dot == std::string::npos) throw std::logic_error("module_regex: no layer number in " + m);
    auto& suffixes = stacks[m.substr(0, dot)][std::stoll(m.substr(dot + 1, end - dot - 1))];
    const auto suffix = m.substr(end + 1);
    if (std::find(suffixes.begin(), suffixes.end(), suffix) == suffixes.end()) suffixes.push_back(suffix);
  }
  std::string out;
  for (const auto& [stack, per_layer] : stacks) {
    std::map<std::vector<std::string>, std::vector<std::int64_t>> groups;
    for (const auto& [layer, suffixes] : per_layer) groups[suffixes].push_back(layer);
    for (const auto& [suffixes, layers] : groups) {
      std::string ls, ss;
      for (auto l : layers) ls += (ls.empty() ? "" : "|") + std::to_string(l);
      for (const auto& x : suffixes) ss += (ss.empty() ? "" : "|") + escape(x);
      out +=
          std::string(out.empty() ? "" : "|") + "(.*\\.)?" + escape(stack) + "\\.(" + ls + ")\\.(" + ss + ")";
    }
  }
  return out;
}

// The LoRA of a linear point (on a fused layer's slice, the one named after the projection).
std::shared_ptr<LoraAugment> lora_at(const model::LinearSlice& slice, const std::string& point_name) {
  const auto wanted =
      slice.whole() ? std::string("lora") : "lora_" + point_name.substr(point_name.rfind('.') + 1);
  for (const auto& [name, a] : slice.linear->augments())
    if (name == wanted)
      if (auto lora = std::dynamic_pointer_cast<LoraAugment>(a)) return lora;
  throw std::logic_error("no LoRA on " + point_name);
}

template <typename T>
T most_common(const std::vector<T>& v) {
  std::map<T, int> counts;
  for (const auto& x : v) ++counts[x];
  T best = v.front();
  int n = 0;
  for (const auto& [x, c] : counts)
    if (c > n) best = x, n = c;
  return best;
}

// ------------------------------------------------------------------------------------------
void export_hf(PeftModel& m, const std::vector<nlohmann::json>& layers, const PeftConfig& config,
               const ExportInfo& info, const fs::path& out) {
  const auto& dims = m.dims();
  auto used = methods_used(layers);
  const auto model_level = config.resolve_embeddings(dims);
  for (auto it = model_level.begin(); it != model_level.end(); ++it) used.insert(it.key());
  if (used.size() != 1)
    cannot("hf-peft", "a configuration with " + std::to_string(used.size()) + " methods",
           "an HF PEFT adapter holds one method (write one per method)");
  const std::string method = *used.begin();
  // Keys: HF PEFT's wrapper, then the module path in the model it wraps (a task model's base
  // prefix for encoders; the generative models' paths are complete).
  const std::string prefix = "base_model.model." + (info.task_model ? hf_task_prefix(dims) : std::string());
  nlohmann::ordered_json j;
  Tensors tensors;
  if (method == "lora") {
    std::vector<std::string> modules;  // one entry per adapted module, with its rank and alpha
    std::vector<std::int64_t> ranks;
    std::vector<double> alphas, dropouts;
    std::set<bool> rslora;
    std::set<std::string> inits;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      if (!layers[i].contains("lora")) continue;
      const auto l = static_cast<std::int64_t>(i);
      const auto& o = layers[i]["lora"];
      if (o.at("gate").get<bool>())
        cannot("hf-peft", "layers." + std::to_string(i) + ".lora.gate", "HF PEFT has no gated LoRA");
      dropouts.push_back(o.at("dropout"));
      rslora.insert(o.at("use_rslora").get<bool>());
      inits.insert(o.at("init").get<std::string>());
      // GPT-2's q, k, v LoRAs act on rows of the fused c_attn; HF PEFT adapts c_attn with one LoRA,
      // so they become one of rank sum(r): A stacked, B block-diagonal over the rows with each
      // target's scaling folded in, and alpha chosen so that HF's own scaling is 1. The product
      // is the same; training it further in HF PEFT would not be (the blocks would mix).
      struct Part {
        std::shared_ptr<LoraAugment> lora;
        std::int64_t offset;
      };
      std::map<std::string, std::vector<Part>> fused;
      for (const auto& t : o.at("targets")) {
        const std::string target = t;
        const auto points = target_points(m.host(), dims, l, target);
        const auto hf = hf_linear_modules(dims, l, target);
        for (std::size_t k = 0; k < points.size(); ++k) {
          const auto slice = m.host().linear_slice(points[k]);
          const auto lora = lora_at(slice, points[k]);
          if (!slice.whole()) {
            fused[hf[k]].push_back({lora, slice.offset});
            continue;
          }
          modules.push_back(hf[k]);
          ranks.push_back(methods::lora_rank(o, target));
          alphas.push_back(methods::lora_alpha(o, target));
          tensors.emplace_back(prefix + hf[k] + ".lora_A.weight", lora->lora_A);
          tensors.emplace_back(prefix + hf[k] + ".lora_B.weight", lora->lora_B);
        }
      }
      for (const auto& [module, parts] : fused) {
        torch::NoGradGuard g;
        const auto out_features =
            m.host().linear_slice(target_points(m.host(), dims, l, "q").front()).linear->out_features;
        std::vector<torch::Tensor> as;
        std::int64_t rank = 0;
        for (const auto& p : parts) {
          as.push_back(p.lora->lora_A);
          rank += p.lora->lora_A.size(0);
        }
        auto b = torch::zeros({out_features, rank}, parts.front().lora->lora_B.options());
        std::int64_t column = 0;
        for (const auto& p : parts) {
          const auto& pb = p.lora->lora_B;
          b.narrow(0, p.offset, pb.size(0)).narrow(1, column, pb.size(1)).copy_(pb * p.lora->scaling());
          column += pb.size(1);
        }
        modules.push_back(module);
        ranks.push_back(rank);
        alphas.push_back(*rslora.rbegin() ? std::sqrt(static_cast<double>(rank)) : static_cast<double>(rank));
        tensors.emplace_back(prefix + module + ".lora_A.weight", torch::cat(as, 0));
        tensors.emplace_back(prefix + module + ".lora_B.weight", b);
      }
    }
    if (std::set<double>(dropouts.begin(), dropouts.end()).size() > 1)
      cannot("hf-peft", "lora.dropout", "differs between layers; HF PEFT has one lora_dropout");
    if (rslora.size() > 1) cannot("hf-peft", "lora.use_rslora", "differs between layers");
    if (inits.size() > 1) cannot("hf-peft", "lora.init", "differs between layers");
    const auto r = most_common(ranks);
    const auto alpha = most_common(alphas);
    nlohmann::ordered_json rank_pattern = nlohmann::ordered_json::object(),
                           alpha_pattern = nlohmann::ordered_json::object();
    for (std::size_t k = 0; k < modules.size(); ++k) {
      if (ranks[k] != r) rank_pattern[escape(modules[k])] = ranks[k];
      if (alphas[k] != alpha) alpha_pattern[escape(modules[k])] = alphas[k];
    }
    j["peft_type"] = "LORA";
    j["r"] = r;
    j["lora_alpha"] = alpha;
    j["lora_dropout"] = dropouts.front();
    j["target_modules"] = module_regex(modules);
    if (!rank_pattern.empty()) j["rank_pattern"] = rank_pattern;
    if (!alpha_pattern.empty()) j["alpha_pattern"] = alpha_pattern;
    if (*rslora.begin()) j["use_rslora"] = true;
    j["init_lora_weights"] =
        *inits.begin() == "gaussian" ? nlohmann::ordered_json("gaussian") : nlohmann::ordered_json(true);
    j["bias"] = "none";
    if (fused_qkv(dims)) j["fan_in_fan_out"] = true;  // GPT-2's Conv1D weights are [in, out]
  } else if (method == "ia3") {
    std::vector<std::string> all, ff;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      if (!layers[i].contains("ia3")) continue;
      const auto l = static_cast<std::int64_t>(i);
      for (const auto& t : layers[i]["ia3"].at("targets")) {
        const std::string target = t == "ffn" ? "ffn.out" : t.get<std::string>();
        const auto points = target_points(m.host(), dims, l, target);
        const auto hf = hf_linear_modules(dims, l, target);
        for (std::size_t k = 0; k < points.size(); ++k) {
          const auto slice = m.host().linear_slice(points[k]);
          if (!slice.whole())
            cannot("hf-peft", "IA3 on " + target + " of GPT-2",
                   "HF PEFT scales the whole fused c_attn (q, k and v together)");
          all.push_back(hf[k]);
          if (target == "ffn.out") ff.push_back(hf[k]);
          for (const auto& [name, a] : slice.linear->augments())
            if (auto ia3 = std::dynamic_pointer_cast<Ia3Augment>(a))
              // HF PEFT: [out, 1] on outputs, [1, in] on feed-forward inputs.
              tensors.emplace_back(prefix + hf[k] + ".ia3_l",
                                   target == "ffn.out" ? ia3->ia3_l.view({1, -1}) : ia3->ia3_l.view({-1, 1}));
        }
      }
    }
    j["peft_type"] = "IA3";
    j["target_modules"] = module_regex(all);
    j["feedforward_modules"] =
        ff.empty() ? nlohmann::ordered_json::array() : nlohmann::ordered_json(module_regex(ff));
    if (fused_qkv(dims)) j["fan_in_fan_out"] = true;
  } else if (method == "prefix") {
    if (dims.family == "t5")
      cannot("hf-peft", "a T5 prefix",
             "HF PEFT gives T5 one prefix table, used by the decoder's self- and cross-attention alike, and "
             "none to the encoder; ours has a generator per location (--format adapters or native)");
    std::set<std::int64_t> lengths;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      if (!layers[i].contains("prefix"))
        cannot("hf-peft", "a prefix on some layers only",
               "HF PEFT puts the prefix on every layer (layer " + std::to_string(i) + " has none)");
      lengths.insert(layers[i]["prefix"].at("length").get<std::int64_t>());
      if (layers[i]["prefix"].at("gate").get<bool>())
        cannot("hf-peft", "prefix.gate", "HF PEFT has no gated prefix");
    }
    if (lengths.size() > 1)
      cannot("hf-peft", "per-layer prefix lengths", "HF PEFT has one num_virtual_tokens");
    // prompt_embeddings [P, L * 2 * H]: for each layer its keys then its values (past_key_values layout).
    std::vector<torch::Tensor> blocks;
    torch::NoGradGuard g;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      auto p = std::dynamic_pointer_cast<LayerPrefix>(
          m.host().prefix(m.host().layer_point(static_cast<std::int64_t>(i), "attn")));
      auto [k, v] = p->table();
      blocks.push_back(k);
      blocks.push_back(v);
    }
    tensors.emplace_back("prompt_embeddings", torch::cat(blocks, 1));
    j["peft_type"] = "PREFIX_TUNING";
    j["num_virtual_tokens"] = *lengths.begin();
    // With grouped-query attention HF PEFT (_prepare_prompt_learning_config, its #1901) counts
    // the prefix in key/value heads: token_dim becomes token_dim / heads * kv_heads and
    // num_attention_heads kv_heads, on every load. Written already so (our key/value width and
    // heads), that step gives them back unchanged, whatever the head width.
    const auto K = key_value_width(dims), kv_heads = dims.kv_heads ? dims.kv_heads : dims.heads;
    j["token_dim"] = K;
    j["num_layers"] = dims.layers;
    j["num_attention_heads"] = kv_heads;
    j["encoder_hidden_size"] = K;
    j["prefix_projection"] = false;
    j["num_transformer_submodules"] = 1;
    // HF PEFT hands the prefix to the model as past_key_values, so the model numbers the tokens
    // from P (absolute positions of BERT / GPT-2, rotary angles of Llama); autopeft's prefix, as
    // AdapterHub's and He et al.'s, leaves positions alone. Measured with HF PEFT 0.21 on tiny
    // random GPT-2 / Llama models (bench/hf_crosscheck.py): logits 0.7-1.4 apart.
    log::warn(
        "hf-peft prefix: HF PEFT passes the prefix as past_key_values, which shifts the tokens' positions "
        "by {} (the prefix length); autopeft's prefix does not, so HF PEFT's outputs differ from ours",
        *lengths.begin());
  } else if (method == "prompt_tuning" || method == "p_tuning") {
    const auto& o = model_level[method];
    auto prompt = std::dynamic_pointer_cast<PromptEmbedding>(m.host().embedding_hook());
    torch::NoGradGuard g;
    // HF PEFT saves the prompt vectors themselves (for P-tuning: its encoder's output).
    tensors.emplace_back("prompt_embeddings", prompt->table().detach().clone());
    j["peft_type"] = method == "prompt_tuning" ? "PROMPT_TUNING" : "P_TUNING";
    j["num_virtual_tokens"] = o.at("length");
    j["token_dim"] = dims.hidden;
    // One: the prompt goes before the input only. (HF PEFT's default for a SEQ_2_SEQ_LM is two, a
    // second prompt before the decoder's inputs when it trains from labels; ours has none, and
    // with one HF PEFT prepends the prompt to T5's encoder input only, as we do.)
    j["num_transformer_submodules"] = 1;
    j["num_attention_heads"] = dims.heads;
    j["num_layers"] = dims.layers;
    if (method == "prompt_tuning") {
      j["prompt_tuning_init"] = "RANDOM";
    } else {
      j["encoder_reparameterization_type"] = o.at("encoder") == "mlp" ? "MLP" : "LSTM";
      j["encoder_hidden_size"] = o.at("hidden");
    }
  } else {
    cannot("hf-peft", method,
           "HF PEFT has no " + method + " (bottleneck adapters live in AdapterHub: --format adapters)");
  }
  if (!info.task_type.empty()) j["task_type"] = info.task_type;
  if (!info.head.empty() && (info.task_type == "SEQ_CLS" || info.task_type == "TOKEN_CLS")) {
    // Keyed as HF PEFT's own save writes them: the wrapper's path to the task model (prompt
    // methods wrap it directly, LoRA and IA3 through a tuner's .model), then the head's own name.
    const bool prompt = method == "prefix" || method == "prompt_tuning" || method == "p_tuning";
    std::set<std::string> modules;
    for (const auto& [name, t] : info.head) {
      tensors.emplace_back((prompt ? "base_model." : "base_model.model.") + name, t.detach());
      modules.insert(name.substr(0, name.find('.')));
    }
    j["modules_to_save"] = modules;
  }
  if (!info.base_model.empty()) j["base_model_name_or_path"] = info.base_model;
  j["inference_mode"] = true;
  write_json(out / "adapter_config.json", j);
  model::save_safetensors((out / "adapter_model.safetensors").string(), tensors);
}

// ------------------------------------------------------------------------------------------
nlohmann::ordered_json reduction_factors(const std::map<std::int64_t, std::int64_t>& sizes, std::int64_t H,
                                         const std::string& part) {
  // AdapterHub: size = int(H // rf); the factor must give each size back exactly.
  nlohmann::ordered_json m = nlohmann::ordered_json::object();
  std::vector<std::int64_t> all;
  for (const auto& [l, s] : sizes) all.push_back(s);
  const auto common = most_common(all);
  auto factor = [&](std::int64_t size) {
    const double rf = static_cast<double>(H) / static_cast<double>(size);
    if (static_cast<std::int64_t>(std::floor(static_cast<double>(H) / rf)) != size)
      cannot("adapters", part + " size " + std::to_string(size),
             "no reduction factor of " + std::to_string(H) + " gives it");
    return rf;
  };
  for (const auto& [l, s] : sizes)
    if (s != common) m[std::to_string(l)] = factor(s);
  if (m.empty()) return factor(common);
  m["default"] = factor(common);
  return m;
}

nlohmann::ordered_json leave_out_of(const std::set<std::int64_t>& present, std::int64_t layers) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (std::int64_t i = 0; i < layers; ++i)
    if (!present.count(i)) out.push_back(i);
  return out;
}

// AdapterHub's places, per family (adapters 1.2.0, read in its source: models/*/mixin_*.py,
// methods/bottleneck.py, methods/lora.py, methods/prefix_tuning.py; docs/export.md says what was
// loaded by the library itself and what was only read).
struct HubFamily {
  std::string model_class;
  std::string pool;  // the prefix pool's parent module ("bert.", "transformer.", "model.", "")
  // Our hook module of a residual point (its parameters) and AdapterHub's `adapters.<name>` there.
  std::function<std::pair<std::string, std::string>(const std::string& point_hf, bool attn)> bottleneck;
};

HubFamily hub_family(PeftModel& m, const ExportInfo& info, const std::string& name) {
  const auto& family = m.dims().family;
  if (m.is_encoder()) {
    const auto& cfg = m.base()->config();
    const std::string prefix = info.task_model ? cfg.base_prefix() : std::string();
    return {cfg.family == model::EncoderFamily::bert ? "BertAdapterModel" : "RobertaAdapterModel", prefix,
            [prefix, name](const std::string& point_hf, bool) {
              return std::make_pair(point_hf, prefix + point_hf + ".adapters." + name);
            }};
  }
  if (family == "t5")  // T5's layer modules are AdapterHub's BottleneckLayers ("layer.<k>.adapters")
    return {"T5ForConditionalGeneration", "", [name](const std::string& point_hf, bool) {
              return std::make_pair(point_hf + ".adapters", point_hf + ".adapters." + name);
            }};
  // GPT-2 and Llama blocks hold attention_adapters and output_adapters, as ours do.
  return {family == "gpt2" ? "GPT2AdapterModel" : "LlamaAdapterModel",
          family == "gpt2" ? "transformer." : "model.", [name](const std::string& point_hf, bool attn) {
            const auto ours = point_hf + (attn ? ".attention_adapters" : ".output_adapters");
            return std::make_pair(ours, ours + ".adapters." + name);
          }};
}

// Our bottleneck parameter names ("down.weight", "ln_before.bias", ...) as AdapterHub's.
std::string hub_bottleneck_key(const std::string& rest, bool ln_before) {
  auto after = [&](std::size_t n) { return rest.substr(n); };
  if (rest.rfind("down.", 0) == 0) return (ln_before ? "adapter_down.1." : "adapter_down.0.") + after(5);
  if (rest.rfind("up.", 0) == 0) return "adapter_up." + after(3);
  if (rest.rfind("ln_before.", 0) == 0) return "adapter_down.0." + after(10);
  if (rest.rfind("ln_after.", 0) == 0) return "adapter_norm_after." + after(9);
  return rest;  // scaling, gate.*
}

void export_adapters(PeftModel& m, const std::vector<nlohmann::json>& layers, const PeftConfig& config,
                     const ExportInfo& info, const fs::path& out) {
  const auto& dims = m.dims();
  auto& host = m.host();
  const std::int64_t H = dims.hidden, L = dims.layers;
  const std::string name = info.adapter_name;
  const auto hub = hub_family(m, info, name);
  std::map<std::string, std::string> hf_of;  // injection point -> its HF module
  for (const auto& p : host.injection_points()) hf_of[p.name] = p.hf_module;
  std::map<std::string, torch::Tensor> ours;  // every parameter of the backbone (PEFT modules included)
  for (const auto& item : host.module().named_parameters()) ours[item.key()] = item.value();
  std::vector<nlohmann::ordered_json> parts;
  Tensors tensors;
  const auto used = methods_used(layers);
  if (!config.resolve_embeddings(dims).empty())
    cannot("adapters", "prompt tuning / P-tuning",
           "AdapterHub prepends its prompt to the embeddings module's output (after positions and "
           "LayerNorm; none on GPT-2, Llama, T5), ours to the word embeddings, as HF PEFT: --format hf-peft");
  if (used.count("ia3"))
    cannot("adapters", "ia3",
           "AdapterHub's IA3 scales intermediate.dense before the activation, ours (as HF PEFT) after");
  if (used.count("serial_adapter") && used.count("parallel_adapter"))
    for (const auto& l : layers)
      if (l.contains("serial_adapter") && l.contains("parallel_adapter"))
        cannot("adapters", "a serial and a parallel adapter in one layer",
               "AdapterHub's ConfigUnion refuses two bottleneck adapters at one location");

  // Bottleneck adapters: one config per distinct option set (sizes vary through the factor map).
  for (const std::string method : {"serial_adapter", "parallel_adapter"}) {
    std::map<std::string, std::pair<std::set<std::int64_t>, std::map<std::int64_t, std::int64_t>>> groups;
    for (std::int64_t i = 0; i < L; ++i) {
      if (!layers[static_cast<std::size_t>(i)].contains(method)) continue;
      auto o = layers[static_cast<std::size_t>(i)][method];
      const auto size = o.at("size").get<std::int64_t>();
      o.erase("size");
      auto& g = groups[o.dump()];
      g.first.insert(i);
      g.second[i] = size;
    }
    for (const auto& [key, group] : groups) {
      const auto o = nlohmann::json::parse(key);
      const bool serial = method == "serial_adapter";
      const bool houlsby = serial && o.at("placement") == "houlsby";
      const std::string loc = serial ? "" : o.at("location").get<std::string>();
      const bool mh = houlsby || loc == "attn" || loc == "both";
      const bool out_adapter = serial || loc == "ffn" || loc == "both";
      std::string init = o.at("init");
      if (init == "mam") init = "mam_adapter";
      nlohmann::ordered_json c;
      c["mh_adapter"] = mh;
      c["output_adapter"] = out_adapter;
      c["reduction_factor"] = reduction_factors(group.second, H, method);
      c["non_linearity"] = o.at("activation");
      c["original_ln_before"] = serial && !houlsby;
      c["original_ln_after"] = true;
      c["residual_before_ln"] = true;
      c["adapter_residual_before_ln"] = false;
      c["ln_before"] = serial ? o.at("ln_before").get<bool>() : false;
      c["ln_after"] = serial ? o.at("ln_after").get<bool>() : false;
      c["init_weights"] = init;
      c["is_parallel"] = !serial;
      c["scaling"] = o.at("scaling");
      c["use_gating"] = serial ? o.at("gate").get<bool>() : false;
      c["leave_out"] = leave_out_of(group.first, L);
      parts.push_back(c);
      const std::string part = serial ? "serial." : "parallel.";
      for (auto i : group.first) {
        std::vector<std::pair<std::string, bool>> sites;  // (our point, at the attention)
        if (mh) sites.emplace_back(host.layer_point(i, "attn.output"), true);
        if (out_adapter) sites.emplace_back(host.layer_point(i, "ffn.output"), false);
        for (const auto& [p, attn] : sites) {
          const auto [mine, theirs] = hub.bottleneck(hf_of.at(p), attn);
          std::map<std::string, torch::Tensor> params;  // below our hook: "serial.down.weight", ...
          if (m.is_encoder()) {
            for (const auto& item : m.base()->residual(p)->hook()->named_parameters())
              params[item.key()] = item.value();
          } else {
            for (const auto& [k, t] : ours)
              if (k.rfind(mine + ".", 0) == 0) params[k.substr(mine.size() + 1)] = t;
          }
          for (const auto& [k, t] : params)
            if (k.rfind(part, 0) == 0)
              tensors.emplace_back(theirs + "." + hub_bottleneck_key(k.substr(part.size()), c["ln_before"]),
                                   t);
        }
      }
    }
  }
  // Prefix: one generator (or flat tables) per location, one length. AdapterHub's locations are
  // ours: "self_prefix" (encoders, GPT-2, Llama, T5's decoder), "encoder_prefix", "cross_prefix" (T5).
  if (used.count("prefix")) {
    if (dims.kv_heads && dims.kv_heads != dims.heads)
      cannot("adapters", "a prefix with grouped-query attention",
             "AdapterHub 1.2.0 builds prefixes with one key/value per query head (its issue #819)");
    std::set<std::int64_t> present, lengths;
    std::set<bool> gates;
    for (std::int64_t i = 0; i < L; ++i)
      if (layers[static_cast<std::size_t>(i)].contains("prefix")) {
        present.insert(i);
        const auto& o = layers[static_cast<std::size_t>(i)]["prefix"];
        lengths.insert(o.at("length").get<std::int64_t>());
        gates.insert(o.at("gate").get<bool>());
      }
    if (lengths.size() > 1)
      cannot("adapters", "per-layer prefix lengths", "AdapterHub has one prefix_length");
    if (gates.size() > 1)
      cannot("adapters", "prefix.gate on some layers only", "AdapterHub's use_gating holds for the config");
    const auto W = methods::prefix_mlp_hidden(config.globals());
    nlohmann::ordered_json c;
    c["architecture"] = "prefix_tuning";
    c["prefix_length"] = *lengths.begin();
    c["bottleneck_size"] = W == 0 ? 512 : W;  // unused when flat (AdapterHub's default)
    c["non_linearity"] = "tanh";
    c["flat"] = W == 0;
    c["leave_out"] = leave_out_of(present, L);
    // UniPELT's gate: one output for keys and values (shared_gating), per attention module,
    // AdapterHub's `<attention>.prefix_tuning.prefix_gates.<name>`.
    c["use_gating"] = *gates.begin();
    c["shared_gating"] = true;
    parts.push_back(c);
    if (*gates.begin())
      for (auto i : present)
        for (const auto& where : prefix_locations(dims, i)) {
          const auto point = host.layer_point(i, where == "cross" ? "cross" : "attn");
          auto p = std::dynamic_pointer_cast<LayerPrefix>(host.prefix(point));
          const auto base = (m.is_encoder() ? hub.pool : std::string()) + hf_of.at(point) +
                            ".prefix_tuning.prefix_gates." + name + ".";
          tensors.emplace_back(base + "weight", p->gate->weight);
          tensors.emplace_back(base + "bias", p->gate->bias);
        }
    std::map<std::string, std::vector<std::int64_t>> by_location;  // location -> its layers, in order
    for (auto i : present)
      for (const auto& where : prefix_locations(dims, i)) by_location[where].push_back(i);
    for (const auto& [where, served] : by_location) {
      const auto base = hub.pool + "prefix_tuning.prefix_tunings." + name + "." + where + "_prefix.";
      if (W == 0) {
        // AdapterHub's flat table: control_trans [P * n_layers * 2 * H], viewed as [P, n_layers * 2,
        // heads, head_dim]: for each position, each layer's key then value (as HF's prefix table).
        std::vector<torch::Tensor> blocks;
        torch::NoGradGuard g;
        for (auto i : served) {
          auto p = std::dynamic_pointer_cast<LayerPrefix>(
              host.prefix(host.layer_point(i, where == "cross" ? "cross" : "attn")));
          auto [k, v] = p->table();
          blocks.push_back(k);
          blocks.push_back(v);
        }
        tensors.emplace_back(base + "control_trans", torch::cat(blocks, 1).reshape({-1}).contiguous());
        continue;
      }
      const std::string generator = (where == "self" ? "" : where + "_") + "prefix_generator.";
      for (const auto& [k, t] : ours) {
        if (k.rfind(generator, 0) != 0) continue;
        const auto rest = k.substr(generator.size());
        if (rest == "wte.weight") tensors.emplace_back(base + "wte.weight", t);
        if (rest.rfind("mlp_in.", 0) == 0)
          tensors.emplace_back(base + "control_trans.0." + rest.substr(7), t);
        if (rest.rfind("mlp_out.", 0) == 0)
          tensors.emplace_back(base + "control_trans.2." + rest.substr(8), t);
      }
    }
  }
  // LoRA: one config per distinct option set, complementary leave_out. AdapterHub wraps q, k, v
  // ("selfattn"; on T5 the cross-attention's too, as ours) and two FFN projections: "intermediate"
  // (BERT intermediate.dense, GPT-2 c_fc, T5 wi / wi_1, and Llama's down_proj) and "output" (BERT
  // output.dense, GPT-2 mlp.c_proj, T5 wo, Llama's up_proj: AdapterHub's Llama mixin has them so).
  if (used.count("lora")) {
    const bool llama = dims.family == "llama";
    std::map<std::string, std::set<std::int64_t>> groups;
    for (std::int64_t i = 0; i < L; ++i) {
      if (!layers[static_cast<std::size_t>(i)].contains("lora")) continue;
      const auto& o = layers[static_cast<std::size_t>(i)]["lora"];
      if (!o.at("r_per_target").empty() || !o.at("alpha_per_target").empty())
        cannot("adapters", "layers." + std::to_string(i) + ".lora per-target ranks",
               "AdapterHub's LoRA has one r per config and layer");
      if (o.at("use_rslora").get<bool>()) cannot("adapters", "lora.use_rslora", "AdapterHub has no rsLoRA");
      groups[o.dump()].insert(i);
    }
    for (const auto& [key, present] : groups) {
      const auto o = nlohmann::json::parse(key);
      nlohmann::ordered_json c;
      std::vector<std::string> attn;  // in q, k, v order (GPT-2's merged c_attn stacks them so)
      bool inter = false, output = false;
      for (const auto& t : o.at("targets")) {
        if (t == "o")
          cannot("adapters", "lora on the attention output", "AdapterHub's LoRA targets q, k, v and the FFN");
        if (t == "qkv")
          cannot("adapters", "lora on qkv",
                 "AdapterHub's c_attn LoRA holds one block per projection, not one update of all three");
        if (t == "ffn.gate")
          cannot("adapters", "lora on ffn.gate", "AdapterHub's LoRA does not wrap the gate projection");
        if (t == "ffn.in")
          (llama ? output : inter) = true;
        else if (t == "ffn.out")
          (llama ? inter : output) = true;
      }
      for (const char* t : {"q", "k", "v"})
        if (std::find(o.at("targets").begin(), o.at("targets").end(), t) != o.at("targets").end())
          attn.push_back(t);
      c["architecture"] = "lora";
      c["selfattn_lora"] = !attn.empty();
      c["intermediate_lora"] = inter;
      c["output_lora"] = output;
      c["r"] = o.at("r");
      c["alpha"] = o.at("alpha");
      c["dropout"] = o.at("dropout");
      c["attn_matrices"] = attn;
      c["composition_mode"] = "add";
      c["init_weights"] = "lora";
      c["use_gating"] = o.at("gate");  // UniPELT: Linear(in, 1) per module, `loras.<name>.gate`
      c["leave_out"] = leave_out_of(present, L);
      parts.push_back(c);
      const std::string prefix = m.is_encoder() ? hub.pool : std::string();
      for (auto i : present) {
        std::map<std::string, std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>>> merged;
        auto add = [&](const std::string& t) {
          const auto points = target_points(host, dims, i, t);
          const auto hf = hf_linear_modules(dims, i, t);
          for (std::size_t k = 0; k < points.size(); ++k) {
            const auto slice = host.linear_slice(points[k]);
            const auto lora = lora_at(slice, points[k]);
            const auto base = prefix + hf[k] + ".loras." + name + ".";
            if (slice.whole()) {
              tensors.emplace_back(base + "lora_A", lora->lora_A);
              tensors.emplace_back(base + "lora_B", lora->lora_B);
              if (!lora->gate.is_empty()) {
                tensors.emplace_back(base + "gate.weight", lora->gate->weight);
                tensors.emplace_back(base + "gate.bias", lora->gate->bias);
              }
            } else {  // GPT-2: one block per projection of c_attn, A [n r, H] and B [n H, r]
              merged[base].first.push_back(lora->lora_A);
              merged[base].second.push_back(lora->lora_B);
            }
          }
        };
        for (const auto& t : attn) add(t);
        for (const auto& t : o.at("targets"))
          if (t.get<std::string>().rfind("ffn.", 0) == 0) add(t);
        torch::NoGradGuard g;
        for (const auto& [base, ab] : merged) {
          tensors.emplace_back(base + "lora_A", torch::cat(ab.first, 0));
          tensors.emplace_back(base + "lora_B", torch::cat(ab.second, 0));
        }
      }
    }
  }
  if (parts.empty()) cannot("adapters", "an empty configuration", "nothing to write");
  nlohmann::ordered_json j;
  if (parts.size() == 1) {
    j["config"] = parts.front();
  } else {
    j["config"] = {{"architecture", "union"}, {"configs", parts}};
  }
  j["hidden_size"] = H;
  j["model_class"] = hub.model_class;
  j["model_name"] = info.base_model;
  j["model_type"] = m.is_encoder() ? m.base()->config().model_type : dims.family;
  j["name"] = name;
  j["version"] = "adapters.1.2.0";
  write_json(out / "adapter_config.json", j);
  model::save_safetensors((out / "adapter.safetensors").string(), tensors);
}

}  // namespace

void export_peft(PeftModel& model, const PeftConfig& config, ExportFormat format, const ExportInfo& info,
                 const std::string& out_dir) {
  // Everything is checked and gathered before anything is written: a refused export writes nothing.
  const fs::path out(out_dir);
  const fs::path staging = out.string() + ".partial";
  remove_tree(staging.string());
  fs::create_directories(staging);
  try {
    switch (format) {
      case ExportFormat::native:
        write_json(staging / "peft_config.json", config.to_json());
        model.save_weights((staging / "peft_weights.safetensors").string());
        break;
      case ExportFormat::hf_peft: export_hf(model, model.layers(), config, info, staging); break;
      case ExportFormat::adapters: export_adapters(model, model.layers(), config, info, staging); break;
    }
  } catch (...) {
    remove_tree(staging.string());
    throw;
  }
  fs::create_directories(out);
  for (const auto& entry : fs::directory_iterator(staging))
    fs::rename(entry.path(), out / entry.path().filename());
  remove_tree(staging.string());
}

}  // namespace autopeft::peft
