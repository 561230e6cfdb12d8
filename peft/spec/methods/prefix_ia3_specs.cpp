#include "peft/spec/methods/prefix_ia3_specs.h"

#include <algorithm>
#include <map>

#include "peft/spec/methods/common.h"

namespace autopeft::peft::methods {

std::int64_t prefix_mlp_hidden(const nlohmann::json& globals) {
  if (globals.is_object() && globals.contains("prefix_mlp"))
    return globals["prefix_mlp"].value("hidden", 512);
  return 512;
}

std::string PrefixSpec::name() const { return "prefix"; }
std::string PrefixSpec::summary() const {
  return "prefix-tuning: trained key/value vectors before the sequence, through a shared MLP (ejected for "
         "export)";
}

nlohmann::json PrefixSpec::normalise(const nlohmann::json& o, const std::string& where,
                                     const ModelDims& dims) const {
  if (absent_if_zero(o, "length", where)) return nullptr;
  only_keys(o, {"length", "gate"}, where);
  return {{"length", option_int(o, "length", 0, where, 1, 4096)}, {"gate", option_gate(o, dims, where)}};
}

Counts PrefixSpec::layer_counts(const nlohmann::json& o, const ModelDims& d) const {
  const auto P = o.at("length").get<std::int64_t>();
  // UniPELT gate: sigmoid(Linear(H, 1)) mean-pooled, shared by keys and values (AdapterHub default).
  // A T5 decoder layer has a self- and a cross-attention prefix.
  const std::int64_t places = d.cross_attention ? 2 : 1;
  const std::int64_t gate = o.at("gate").get<bool>() ? places * (d.hidden + 1) : 0;
  return {gate, places * 2 * P * key_value_width(d) + gate};
}

Counts PrefixSpec::shared_counts(const std::vector<std::pair<std::int64_t, nlohmann::json>>& layers,
                                 const nlohmann::json& globals, const ModelDims& d) const {
  // One generator per location (see prefix_locations), serving that location's layers.
  std::map<std::string, std::vector<std::int64_t>> lengths;
  for (const auto& [layer, o] : layers)
    for (const auto& where : prefix_locations(d, layer)) lengths[where].push_back(o.at("length"));
  // The MLP reads hidden-size embeddings and writes keys and values of the key/value width.
  const auto H = d.hidden, KV = key_value_width(d), W = prefix_mlp_hidden(globals);
  Counts c;
  for (const auto& [where, ls] : lengths) {
    const auto n = static_cast<std::int64_t>(ls.size());
    if (W == 0) {  // flat: the tables themselves train
      for (const auto P : ls) c.trainable += 2 * P * KV;
      continue;
    }
    const auto max_len = *std::max_element(ls.begin(), ls.end());
    c.trainable += max_len * H + (H * W + W) + (W * n * 2 * KV + n * 2 * KV);
  }
  return c;
}

std::string Ia3Spec::name() const { return "ia3"; }
std::string Ia3Spec::summary() const {
  return "IA3: learned scaling of keys, values and the FFN's inner activations";
}

nlohmann::json Ia3Spec::normalise(const nlohmann::json& o, const std::string& where, const ModelDims&) const {
  only_keys(o, {"targets"}, where);
  return {{"targets", option_subset(o, "targets", {"k", "v", "ffn"}, {"k", "v", "ffn"}, where)}};
}

Counts Ia3Spec::layer_counts(const nlohmann::json& o, const ModelDims& d) const {
  Counts c;
  for (const auto& t : o.at("targets"))  // k and v of T5 decoder layers: self and cross
    c.trainable += t == "ffn" ? d.intermediate : (d.cross_attention ? 2 : 1) * key_value_width(d);
  c.stored = c.trainable;
  return c;
}

// Per-layer space: a prefix of 0, 1, 2, ... 32 vectors (one MLP shared by the layers with one).
std::optional<SearchDimension> PrefixSpec::search_dimension(const ModelDims&) const {
  return SearchDimension{"length", zero_and_powers_of_two(32), nlohmann::json::object()};
}

nlohmann::json PrefixSpec::example() const { return nlohmann::json({{"length", 5}, {"gate", true}}); }
nlohmann::json PrefixSpec::identity_example() const { return nullptr; }

nlohmann::json Ia3Spec::example() const { return nlohmann::json({{"targets", {"k", "v", "ffn"}}}); }
nlohmann::json Ia3Spec::identity_example() const { return nlohmann::json({{"targets", {"k", "v", "ffn"}}}); }

}  // namespace autopeft::peft::methods
