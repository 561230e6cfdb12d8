#include "peft/spec/methods/prompt_specs.h"

#include "peft/spec/methods/common.h"

namespace autopeft::peft::methods {

std::string PromptTuningSpec::name() const { return "prompt_tuning"; }
std::string PromptTuningSpec::summary() const {
  return "prompt tuning: trained vectors prepended to the input embeddings";
}

nlohmann::json PromptTuningSpec::normalise(const nlohmann::json& o, const std::string& where,
                                           const ModelDims&) const {
  if (absent_if_zero(o, "length", where)) return nullptr;
  only_keys(o, {"length", "init"}, where);
  return {{"length", option_int(o, "length", 0, where, 1, 4096)},
          {"init", option_choice(o, "init", "random", {"random", "vocab"}, where)}};
}

nlohmann::json PromptTuningSpec::example() const { return {{"length", 4}, {"init", "vocab"}}; }
nlohmann::json PromptTuningSpec::identity_example() const { return nullptr; }

Counts PromptTuningSpec::layer_counts(const nlohmann::json& o, const ModelDims& d) const {
  const auto n = o.at("length").get<std::int64_t>() * d.hidden;
  return {n, n};
}

std::string PTuningSpec::name() const { return "p_tuning"; }
std::string PTuningSpec::summary() const {
  return "P-tuning: prompt vectors produced by an MLP or LSTM encoder, prepended to the input embeddings";
}

nlohmann::json PTuningSpec::normalise(const nlohmann::json& o, const std::string& where,
                                      const ModelDims& d) const {
  if (absent_if_zero(o, "length", where)) return nullptr;
  only_keys(o, {"length", "encoder", "hidden"}, where);
  return {{"length", option_int(o, "length", 0, where, 1, 4096)},
          {"encoder", option_choice(o, "encoder", "mlp", {"mlp", "lstm"}, where)},
          {"hidden", option_int(o, "hidden", d.hidden, where, 1, 1 << 16)}};
}

nlohmann::json PTuningSpec::example() const { return {{"length", 4}, {"encoder", "lstm"}, {"hidden", 8}}; }
nlohmann::json PTuningSpec::identity_example() const { return nullptr; }

Counts PTuningSpec::layer_counts(const nlohmann::json& o, const ModelDims& d) const {
  const auto N = o.at("length").get<std::int64_t>(), H = d.hidden, h = o.at("hidden").get<std::int64_t>();
  std::int64_t enc = 0;
  if (o.at("encoder") == "mlp") {
    enc = (H * h + h) + (h * h + h) + (h * H + H);
  } else {
    // bidirectional, 2 layers; each direction: 4h x (input + h) weights and two 4h biases.
    const auto lstm_layer = [&](std::int64_t in) { return 2 * (4 * h * (in + h) + 8 * h); };
    enc = lstm_layer(H) + lstm_layer(2 * h) + (2 * h * 2 * h + 2 * h) + (2 * h * H + H);
  }
  return {N * H + enc, N * H};
}

}  // namespace autopeft::peft::methods
