// LoRA (Hu et al. 2021) with HF PEFT's options, plus UniPELT's gate as AdapterHub has it. On any linear
// injection point of a layer:
// y = W x + s B A dropout(x), s = alpha / r (alpha / sqrt(r) with rsLoRA). Defaults as HF PEFT:
// alpha 8, dropout 0, init kaiming (A) / zero (B); targets default to q and v.
#include "peft/spec/methods/lora_spec.h"

#include "peft/spec/methods/common.h"

#include <algorithm>

#include "core/errors.h"

namespace autopeft::peft::methods {

const std::vector<std::string>& lora_targets() {
  // ffn.gate: the gate projection of gated FFNs (Llama's gate_proj), beside ffn.in (up_proj).
  // qkv: GPT-2's fused c_attn as one layer (one low-rank update of q, k and v together, as HF
  // PEFT's LoRA on c_attn), where q, k and v are its row slices with a LoRA each.
  static const std::vector<std::string> t = {"q", "k", "v", "o", "qkv", "ffn.gate", "ffn.in", "ffn.out"};
  return t;
}

std::pair<std::int64_t, std::int64_t> lora_target_shape(const std::string& target, const ModelDims& d) {
  if (target == "ffn.in" || target == "ffn.gate") return {d.hidden, d.intermediate};
  if (target == "ffn.out") return {d.intermediate, d.hidden};
  if (target == "k" || target == "v") return {d.hidden, key_value_width(d)};
  if (target == "o") return {query_width(d), d.hidden};
  if (target == "qkv") return {d.hidden, query_width(d) + 2 * key_value_width(d)};
  return {d.hidden, query_width(d)};
}

std::int64_t lora_rank(const nlohmann::json& o, const std::string& target) {
  const auto& m = o.at("r_per_target");
  return m.contains(target) ? m[target].get<std::int64_t>() : o.at("r").get<std::int64_t>();
}

double lora_alpha(const nlohmann::json& o, const std::string& target) {
  const auto& m = o.at("alpha_per_target");
  return m.contains(target) ? m[target].get<double>() : o.at("alpha").get<double>();
}

std::string LoraSpec::name() const { return "lora"; }
std::string LoraSpec::summary() const {
  std::string targets;
  for (const auto& t : lora_targets()) targets += (targets.empty() ? "" : ", ") + t;
  return "LoRA: low-rank update B A on linear layers (" + targets + ")";
}

nlohmann::json LoraSpec::normalise(const nlohmann::json& o, const std::string& where,
                                   const ModelDims& dims) const {
  if (absent_if_zero(o, "r", where)) return nullptr;
  only_keys(
      o,
      {"r", "alpha", "dropout", "targets", "use_rslora", "init", "r_per_target", "alpha_per_target", "gate"},
      where);
  nlohmann::json n;
  n["r"] = option_int(o, "r", 8, where, 1, 65536);
  n["alpha"] = option_double(o, "alpha", 8.0, where, 1e-9, 1e9);
  n["dropout"] = option_double(o, "dropout", 0.0, where, 0.0, 0.999);
  n["targets"] = option_subset(o, "targets", {"q", "v"}, lora_targets(), where);
  if (!dims.gated_ffn &&
      std::find(n["targets"].begin(), n["targets"].end(), "ffn.gate") != n["targets"].end())
    throw_user_error(where + ".targets",
                     "ffn.gate needs a gated FFN (Llama); this " + dims.family + " has none");
  const auto has = [&](const char* t) {
    return std::find(n["targets"].begin(), n["targets"].end(), t) != n["targets"].end();
  };
  if (has("qkv")) {
    if (dims.family != "gpt2")
      throw_user_error(where + ".targets", "qkv is GPT-2's fused c_attn; this " + dims.family +
                                               " has separate q, k and v projections");
    if (has("q") || has("k") || has("v"))
      throw_user_error(where + ".targets",
                       "qkv already adapts the rows of q, k and v: use qkv or them, not both");
  }
  n["use_rslora"] = option_bool(o, "use_rslora", false, where);
  n["init"] = option_choice(o, "init", "kaiming", {"kaiming", "gaussian"}, where);
  // UniPELT: the scaling becomes mean_seq(sigmoid(Linear(in, 1)(x))) (replacing alpha / r).
  n["gate"] = option_gate(o, dims, where);
  // Per-target overrides (HF PEFT's rank_pattern / alpha_pattern within a layer).
  for (const char* key : {"r_per_target", "alpha_per_target"}) {
    nlohmann::json m = nlohmann::json::object();
    if (o.contains(key)) {
      const std::string w = where + "." + key;
      if (!o[key].is_object()) throw_user_error(w, "must be an object of target -> value");
      for (auto it = o[key].begin(); it != o[key].end(); ++it) {
        if (std::find(n["targets"].begin(), n["targets"].end(), it.key()) == n["targets"].end())
          throw_user_error(w + "." + it.key(), "not one of this layer's targets");
        m[it.key()] = std::string(key) == "r_per_target"
                          ? nlohmann::json(option_int(o[key], it.key().c_str(), 0, w, 1, 65536))
                          : nlohmann::json(option_double(o[key], it.key().c_str(), 0.0, w, 1e-9, 1e9));
      }
    }
    n[key] = m;
  }
  return n;
}

Counts LoraSpec::layer_counts(const nlohmann::json& o, const ModelDims& d) const {
  Counts c;
  for (const auto& t : o.at("targets")) {
    const auto target = t.get<std::string>();
    const auto [in, out] = lora_target_shape(target, d);
    // On a T5 decoder layer, q, k, v and o are the self- and the cross-attention's.
    const std::int64_t places = d.cross_attention && target.rfind("ffn", 0) != 0 ? 2 : 1;
    c.trainable += places * (lora_rank(o, target) * (in + out) + (o.at("gate").get<bool>() ? in + 1 : 0));
  }
  c.stored = c.trainable;
  return c;
}

// Per-layer space: LoRA on q and v of rank 0, 1, 2, 4, 8, 16.
std::optional<SearchDimension> LoraSpec::search_dimension(const ModelDims&) const {
  return SearchDimension{"r", zero_and_powers_of_two(16), {{"targets", {"q", "v"}}}};
}

nlohmann::json LoraSpec::example() const {
  return nlohmann::json(
      {{"r", 4}, {"alpha", 8}, {"targets", {"q", "v", "ffn.in"}}, {"r_per_target", {{"v", 2}}}});
}
nlohmann::json LoraSpec::identity_example() const {
  return nlohmann::json({{"r", 4}, {"targets", {"q", "k", "v", "o", "ffn.in", "ffn.out"}}});
}

}  // namespace autopeft::peft::methods
