#include "peft/spec/config_import.h"

#include <algorithm>
#include <regex>
#include <set>

#include "core/errors.h"
#include "core/logging.h"
#include "peft/spec/config_format.h"
#include "peft/spec/hf_modules.h"
#include "peft/spec/presets.h"

namespace autopeft::peft {

namespace {

// HF PEFT's target matching: a list matches by suffix (name == t or ends with "." + t), a
// string by full regex match. Names are tried with and without the task model's prefix.
bool hf_target_matches(const nlohmann::json& targets, const std::string& name, const std::string& prefix) {
  const auto candidates = {name, prefix + name, "base_model.model." + prefix + name};
  if (targets.is_string()) {
    const std::regex re(targets.get<std::string>());
    for (const auto& n : candidates)
      if (std::regex_match(n, re)) return true;
    return false;
  }
  for (const auto& t : targets) {
    const auto s = t.get<std::string>();
    if (name == s ||
        (name.size() > s.size() && name.compare(name.size() - s.size() - 1, s.size() + 1, "." + s) == 0))
      return true;
  }
  return false;
}

// The module of `target` on `layer` that HF PEFT's target_modules selects ("" when none; GPT-2's
// c_attn is our qkv target). A T5 decoder layer's attention target names two modules
// (self- and cross-attention), which we adapt together: selecting one of them alone is refused.
std::string matched_module(const nlohmann::json& targets, const ModelDims& dims, std::int64_t layer,
                           const std::string& target, const std::string& prefix, const std::string& source) {
  const auto modules = hf_linear_modules(dims, layer, target);
  std::vector<std::string> in, out;
  for (const auto& m : modules) (hf_target_matches(targets, m, prefix) ? in : out).push_back(m);
  if (in.empty()) return {};
  if (!out.empty())
    throw_user_error(source + ": target_modules", "selects " + in.front() + " without " + out.front() +
                                                      ": our " + target + " target adapts both");
  return modules.front();
}

void set_module(nlohmann::json& layers, std::int64_t layer, const std::string& method, nlohmann::json options,
                const std::string& where) {
  auto& entry = layers[std::to_string(layer)];
  if (entry.is_null()) entry = nlohmann::json::object();
  if (entry.contains(method))
    throw_user_error(where, "two configurations put " + method + " on layer " + std::to_string(layer));
  entry[method] = std::move(options);
}

nlohmann::json empty_config() {
  return {{"autopeft_peft_config", kPeftConfigVersion}, {"layers", nlohmann::json::object()}};
}

std::set<std::int64_t> layer_set(const nlohmann::json& value, const std::string& where,
                                 const ModelDims& dims) {
  std::set<std::int64_t> out;
  if (value.is_null()) return out;
  const auto add = [&](const nlohmann::json& v) {
    if (!v.is_number_integer()) throw_user_error(where, "layer indices must be integers, got " + v.dump());
    const auto i = v.get<std::int64_t>();
    if (i < 0 || i >= dims.layers) {
      log::warn("{}: layer {} does not exist in this {}-layer model; ignored", where, i, dims.layers);
      return;
    }
    out.insert(i);
  };
  if (value.is_array())
    for (const auto& v : value) add(v);
  else
    add(value);
  return out;
}

// ------------------------------------------------------------------------------------------
PeftConfig from_hf_peft(const nlohmann::json& c, const std::string& source, const ModelDims& dims) {
  const auto type = c.value("peft_type", std::string());
  const std::string prefix = hf_task_prefix(dims);
  auto cfg = empty_config();
  cfg["name"] = "hf-peft-" + type;
  std::set<std::int64_t> layers;
  for (std::int64_t i = 0; i < dims.layers; ++i) layers.insert(i);
  if (c.contains("layers_to_transform") && !c["layers_to_transform"].is_null())
    layers = layer_set(c["layers_to_transform"], source + ": layers_to_transform", dims);

  if (type == "LORA") {
    if (c.value("bias", std::string("none")) != "none")
      throw_user_error(source + ": bias",
                       "LoRA biases ('" + c["bias"].get<std::string>() + "') are not supported");
    if (c.value("use_dora", false)) throw_user_error(source + ": use_dora", "DoRA is not supported");
    if (!c.contains("target_modules") || c["target_modules"].is_null())
      throw_user_error(source + ": target_modules",
                       "required (HF PEFT's per-model defaults are not applied)");
    const auto r = c.value("r", 8);
    const auto alpha = c.value("lora_alpha", 8.0);
    std::string init = "kaiming";
    if (c.contains("init_lora_weights") && c["init_lora_weights"].is_string()) {
      if (c["init_lora_weights"] != "gaussian")
        throw_user_error(source + ": init_lora_weights", c["init_lora_weights"].dump() + " is not supported");
      init = "gaussian";
    }
    // rank_pattern / alpha_pattern: the first key matching "(.*\.)?(key)$" wins.
    const auto pattern_value = [&](const char* key, const std::string& module) -> nlohmann::json {
      if (!c.contains(key) || !c[key].is_object()) return nullptr;
      for (auto it = c[key].begin(); it != c[key].end(); ++it) {
        std::string k = it.key();
        const bool anchored = !k.empty() && k[0] == '^';
        const std::regex re(anchored ? k.substr(1) + "$" : "(.*\\.)?(" + k + ")$");
        for (const auto& name : {module, prefix + module})
          if (std::regex_match(name, re)) return it.value();
      }
      return nullptr;
    };
    std::set<std::string> used_patterns;
    bool any = false;
    for (auto layer : layers) {
      nlohmann::json o = {{"r", r},
                          {"alpha", alpha},
                          {"dropout", c.value("lora_dropout", 0.0)},
                          {"use_rslora", c.value("use_rslora", false)},
                          {"init", init},
                          {"targets", nlohmann::json::array()},
                          {"r_per_target", nlohmann::json::object()},
                          {"alpha_per_target", nlohmann::json::object()}};
      for (const auto& target : hf_targets(dims)) {
        const auto module = matched_module(c["target_modules"], dims, layer, target, prefix, source);
        if (module.empty()) continue;
        o["targets"].push_back(target);
        if (auto v = pattern_value("rank_pattern", module); !v.is_null()) o["r_per_target"][target] = v;
        if (auto v = pattern_value("alpha_pattern", module); !v.is_null()) o["alpha_per_target"][target] = v;
      }
      if (o["targets"].empty()) continue;
      any = true;
      set_module(cfg["layers"], layer, "lora", o, source);
    }
    if (!any)
      throw_user_error(source + ": target_modules", c["target_modules"].dump() + " matches no linear layer");
    for (const char* key : {"rank_pattern", "alpha_pattern"})
      if (c.contains(key) && c[key].is_object())
        for (auto it = c[key].begin(); it != c[key].end(); ++it) {
          bool matched = false;
          for (auto layer : layers)
            for (const auto& t : hf_targets(dims)) {
              const auto module = hf_linear_modules(dims, layer, t).front();
              const std::string k = it.key();
              const bool anchored = !k.empty() && k[0] == '^';
              const std::regex re(anchored ? k.substr(1) + "$" : "(.*\\.)?(" + k + ")$");
              matched |= std::regex_match(module, re) || std::regex_match(prefix + module, re);
            }
          if (!matched)
            log::warn("{}: {} entry '{}' matches no module of this model; ignored", source, key, it.key());
        }
  } else if (type == "IA3") {
    if (!c.contains("target_modules") || c["target_modules"].is_null())
      throw_user_error(source + ": target_modules", "required");
    const auto ff = c.value("feedforward_modules", nlohmann::json::array());
    for (auto layer : layers) {
      nlohmann::json targets = nlohmann::json::array();
      for (const auto& target : hf_targets(dims)) {
        const auto module = matched_module(c["target_modules"], dims, layer, target, prefix, source);
        if (module.empty()) continue;
        const bool is_ff = !ff.is_null() && !ff.empty() && hf_target_matches(ff, module, prefix);
        if ((target == "k" || target == "v") && !is_ff) {
          targets.push_back(target);
        } else if (target == "ffn.out" && is_ff) {
          targets.push_back("ffn");
        } else {
          throw_user_error(
              source + ": target_modules",
              "IA3 on " + module + (is_ff ? " as a feedforward module" : "") +
                  " is not supported (we scale key and value outputs and the FFN output's input)");
        }
      }
      if (!targets.empty()) set_module(cfg["layers"], layer, "ia3", {{"targets", targets}}, source);
    }
  } else if (type == "PREFIX_TUNING") {
    if (!c.contains("num_virtual_tokens")) throw_user_error(source + ": num_virtual_tokens", "required");
    const auto length = c["num_virtual_tokens"].get<std::int64_t>();
    cfg["prefix_mlp"] = {{"hidden", c.value("prefix_projection", false)
                                        ? c.value("encoder_hidden_size", dims.hidden)
                                        : static_cast<std::int64_t>(0)}};
    for (auto layer : layers) set_module(cfg["layers"], layer, "prefix", {{"length", length}}, source);
  } else {
    throw_user_error(source + ": peft_type",
                     "'" + type + "' cannot be imported yet (LORA, IA3, PREFIX_TUNING can)");
  }
  return PeftConfig::from_json(cfg, source);
}

// ------------------------------------------------------------------------------------------
std::string adapters_activation(const std::string& name, const std::string& where) {
  static const std::map<std::string, std::string> m = {
      {"relu", "relu"}, {"gelu", "gelu"}, {"gelu_new", "gelu_new"},   {"swish", "swish"},
      {"silu", "silu"}, {"tanh", "tanh"}, {"leakyrelu", "leakyrelu"}, {"gelu_orig", "gelu"}};
  auto it = m.find(name);
  if (it == m.end()) throw_user_error(where, "non_linearity '" + name + "' is not supported");
  return it->second;
}

void add_adapters_part(const nlohmann::json& c, const std::string& where, const ModelDims& dims,
                       nlohmann::json& cfg) {
  const auto arch = c.contains("architecture") && !c["architecture"].is_null()
                        ? c["architecture"].get<std::string>()
                        : std::string("bottleneck");
  const auto leave_out = layer_set(c.value("leave_out", nlohmann::json::array()), where + ".leave_out", dims);
  std::vector<std::int64_t> layers;
  for (std::int64_t i = 0; i < dims.layers; ++i)
    if (!leave_out.count(i)) layers.push_back(i);

  if (arch == "union") {
    if (!c.contains("configs") || !c["configs"].is_array())
      throw_user_error(where + ".configs", "a union needs a list");
    for (std::size_t k = 0; k < c["configs"].size(); ++k)
      add_adapters_part(c["configs"][k], where + ".configs[" + std::to_string(k) + "]", dims, cfg);
    return;
  }
  if (arch == "bottleneck") {
    const bool mh = c.value("mh_adapter", false), out = c.value("output_adapter", true);
    const bool parallel = c.value("is_parallel", false);
    const bool ln_before_orig = c.value("original_ln_before", !parallel && !mh);
    if (!c.value("original_ln_after", true))
      throw_user_error(where + ".original_ln_after",
                       "false is not supported (post-LN blocks keep their LayerNorm)");
    if (c.value("residual_before_ln", true) != true && !parallel)
      throw_user_error(where + ".residual_before_ln", "only true is supported");
    if (c.value("adapter_residual_before_ln", false))
      throw_user_error(where + ".adapter_residual_before_ln", "only false is supported");
    if (c.value("phm_layer", false))
      throw_user_error(where + ".phm_layer", "Compacter (PHM) adapters are not supported");
    std::string init = c.value("init_weights", std::string("bert"));
    if (init == "mam_adapter") init = "mam";
    if (init != "bert" && init != "mam" && init != "houlsby")
      throw_user_error(where + ".init_weights", "'" + init + "' is not supported");
    nlohmann::json scaling = c.value("scaling", nlohmann::json(1.0));
    if (scaling.is_string() && scaling != "learned")
      throw_user_error(where + ".scaling", scaling.dump() + " is not supported (a number or \"learned\")");
    const auto rf = c.value("reduction_factor", nlohmann::json(parallel ? 2 : 16));
    const auto size_of = [&](std::int64_t layer) {
      nlohmann::json f = rf;
      if (rf.is_object()) {
        const auto key = std::to_string(layer);
        if (rf.contains(key))
          f = rf[key];
        else if (rf.contains("default"))
          f = rf["default"];
        else
          throw_user_error(where + ".reduction_factor", "no entry for layer " + key + " and no \"default\"");
      }
      if (!f.is_number() || f.get<double>() <= 0)
        throw_user_error(where + ".reduction_factor", "bad value " + f.dump());
      return std::max<std::int64_t>(
          1, static_cast<std::int64_t>(static_cast<double>(dims.hidden) / f.get<double>()));
    };
    const auto act = adapters_activation(c.value("non_linearity", std::string(parallel ? "relu" : "relu")),
                                         where + ".non_linearity");
    for (auto layer : layers) {
      if (parallel) {
        if (c.value("use_gating", false))
          throw_user_error(where + ".use_gating", "gated parallel adapters are not supported");
        const std::string location = mh && out ? "both" : mh ? "attn" : "ffn";
        set_module(cfg["layers"], layer, "parallel_adapter",
                   {{"size", size_of(layer)},
                    {"location", location},
                    {"scaling", scaling},
                    {"activation", act},
                    {"init", init}},
                   where);
        continue;
      }
      std::string placement;
      if (mh && out && !ln_before_orig)
        placement = "houlsby";
      else if (!mh && out && ln_before_orig)
        placement = "pfeiffer";
      else
        throw_user_error(where,
                         "serial adapter with mh_adapter=" + std::string(mh ? "true" : "false") +
                             ", output_adapter=" + (out ? "true" : "false") +
                             ", original_ln_before=" + (ln_before_orig ? "true" : "false") +
                             " is neither Pfeiffer (output, LN before) nor Houlsby (both, no LN before)");
      set_module(cfg["layers"], layer, "serial_adapter",
                 {{"size", size_of(layer)},
                  {"placement", placement},
                  {"activation", act},
                  {"init", init},
                  {"scaling", scaling},
                  {"ln_before", c.value("ln_before", false)},
                  {"ln_after", c.value("ln_after", false)},
                  {"gate", c.value("use_gating", false)}},
                 where);
    }
    return;
  }
  if (arch == "prefix_tuning") {
    const auto length = c.value("prefix_length", static_cast<std::int64_t>(30));
    const auto hidden =
        c.value("flat", false) ? 0 : c.value("bottleneck_size", static_cast<std::int64_t>(512));
    if (cfg.contains("prefix_mlp") && cfg["prefix_mlp"]["hidden"] != hidden)
      throw_user_error(where, "two prefix configurations with different generators");
    cfg["prefix_mlp"] = {{"hidden", hidden}};
    if (c.value("non_linearity", std::string("tanh")) != "tanh")
      throw_user_error(where + ".non_linearity", "only tanh is supported for the prefix generator");
    for (auto layer : layers)
      set_module(cfg["layers"], layer, "prefix", {{"length", length}, {"gate", c.value("use_gating", false)}},
                 where);
    return;
  }
  if (arch == "lora") {
    if (c.value("composition_mode", std::string("add")) != "add")
      throw_user_error(
          where + ".composition_mode",
          "'scale' (AdapterHub's IA3, which scales intermediate.dense before the activation) is not "
          "supported; use HF PEFT's IA3 form");
    nlohmann::json targets = nlohmann::json::array();
    if (c.value("selfattn_lora", true))
      for (const auto& m : c.value("attn_matrices", nlohmann::json::array({"q", "v"}))) targets.push_back(m);
    // AdapterHub's Llama mixin wraps down_proj as "intermediate" and up_proj as "output" (the
    // exporter writes them so too); elsewhere intermediate is the FFN's input projection.
    const bool llama = dims.family == "llama";
    if (c.value("intermediate_lora", false)) targets.push_back(llama ? "ffn.out" : "ffn.in");
    if (c.value("output_lora", false)) targets.push_back(llama ? "ffn.in" : "ffn.out");
    // adapters' LoRA scales by alpha / r, like HF PEFT.
    for (auto layer : layers)
      set_module(cfg["layers"], layer, "lora",
                 {{"r", c.value("r", 8)},
                  {"alpha", c.value("alpha", 8.0)},
                  {"dropout", c.value("dropout", 0.0)},
                  {"targets", targets},
                  {"gate", c.value("use_gating", false)}},
                 where);
    return;
  }
  throw_user_error(where + ".architecture",
                   "'" + arch + "' cannot be imported (bottleneck, prefix_tuning, lora, union can)");
}

PeftConfig from_adapters(const nlohmann::json& doc, const std::string& source, const ModelDims& dims) {
  const bool wrapped = doc.contains("config") && doc["config"].is_object();
  const auto& c = wrapped ? doc["config"] : doc;
  if (wrapped && doc.contains("hidden_size") && doc["hidden_size"].is_number_integer() &&
      doc["hidden_size"].get<std::int64_t>() != dims.hidden)
    log::warn("{}: written for hidden size {}, the model has {}; sizes follow the model", source,
              doc["hidden_size"].get<std::int64_t>(), dims.hidden);
  auto cfg = empty_config();
  cfg["name"] = wrapped ? "adapters-" + doc.value("name", std::string("config")) : "adapters-config";
  add_adapters_part(c, source + ": config", dims, cfg);
  return PeftConfig::from_json(cfg, source);
}

}  // namespace

PeftConfig import_config(const nlohmann::json& document, const std::string& source, const ModelDims& dims) {
  PeftConfig out;
  switch (detect_config_format(document, source)) {
    case ConfigFormat::native: out = PeftConfig::from_json(document, source); break;
    case ConfigFormat::hf_peft: out = from_hf_peft(document, source, dims); break;
    case ConfigFormat::adapters: out = from_adapters(document, source, dims); break;
  }
  out.resolve(dims, source);  // every option checked against the model now
  return out;
}

PeftConfig import_config_file(const std::string& path, const ModelDims& dims) {
  if (path.rfind("preset:", 0) == 0) {
    auto c = preset(path.substr(7), dims);
    c.resolve(dims, path);
    return c;
  }
  nlohmann::json doc;
  detect_config_file_format(path, &doc);
  return import_config(doc, path, dims);
}

}  // namespace autopeft::peft
