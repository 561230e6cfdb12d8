// LoRA (Hu et al. 2021) with HF PEFT's options: on any linear injection point of a layer,
// y = W x + s B A dropout(x), s = alpha / r (alpha / sqrt(r) with rsLoRA). Defaults as HF PEFT:
// alpha 8, dropout 0, init kaiming (A) / zero (B); targets default to q and v.
#include "peft/spec/methods/lora_spec.h"

#include "peft/spec/methods/common.h"

namespace autopeft::peft::methods {

const std::vector<std::string>& lora_targets() {
  static const std::vector<std::string> t = {"q", "k", "v", "o", "ffn.in", "ffn.out"};
  return t;
}

std::pair<std::int64_t, std::int64_t> lora_target_shape(const std::string& target, const ModelDims& d) {
  if (target == "ffn.in") return {d.hidden, d.intermediate};
  if (target == "ffn.out") return {d.intermediate, d.hidden};
  return {d.hidden, d.hidden};
}

std::string LoraSpec::name() const { return "lora"; }
std::string LoraSpec::summary() const {
  return "LoRA: low-rank update B A on linear layers (q, k, v, o, ffn.in, ffn.out)";
}

nlohmann::json LoraSpec::normalise(const nlohmann::json& o, const std::string& where,
                                   const ModelDims&) const {
  if (absent_if_zero(o, "r", where)) return nullptr;
  only_keys(o, {"r", "alpha", "dropout", "targets", "use_rslora", "init"}, where);
  nlohmann::json n;
  n["r"] = option_int(o, "r", 8, where, 1, 65536);
  n["alpha"] = option_double(o, "alpha", 8.0, where, 1e-9, 1e9);
  n["dropout"] = option_double(o, "dropout", 0.0, where, 0.0, 0.999);
  n["targets"] = option_subset(o, "targets", {"q", "v"}, lora_targets(), where);
  n["use_rslora"] = option_bool(o, "use_rslora", false, where);
  n["init"] = option_choice(o, "init", "kaiming", {"kaiming", "gaussian"}, where);
  return n;
}

Counts LoraSpec::layer_counts(const nlohmann::json& o, const ModelDims& d) const {
  Counts c;
  const auto r = o.at("r").get<std::int64_t>();
  for (const auto& t : o.at("targets")) {
    const auto [in, out] = lora_target_shape(t.get<std::string>(), d);
    c.trainable += r * (in + out);
  }
  c.stored = c.trainable;
  return c;
}

nlohmann::json LoraSpec::example() const {
  return nlohmann::json({{"r", 4}, {"alpha", 8}, {"targets", {"q", "v", "ffn.in"}}});
}
nlohmann::json LoraSpec::identity_example() const {
  return nlohmann::json({{"r", 4}, {"targets", {"q", "k", "v", "o", "ffn.in", "ffn.out"}}});
}

}  // namespace autopeft::peft::methods
