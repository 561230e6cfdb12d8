#include "peft/spec/methods/adapter_specs.h"

#include "peft/spec/methods/common.h"

namespace autopeft::peft::methods {

const std::vector<std::string>& adapter_activations() {
  static const std::vector<std::string> a = {"relu", "gelu", "gelu_new", "swish",
                                             "silu", "tanh", "leakyrelu"};
  return a;
}

std::string SerialAdapterSpec::name() const { return "serial_adapter"; }
std::string SerialAdapterSpec::summary() const {
  return "serial bottleneck adapter (AdapterHub): Pfeiffer placement after the FFN, or Houlsby after "
         "attention and FFN";
}

nlohmann::json SerialAdapterSpec::normalise(const nlohmann::json& o, const std::string& where,
                                            const ModelDims& d) const {
  if (absent_if_zero(o, "size", where)) return nullptr;
  only_keys(o, {"size", "placement", "activation", "init", "scaling", "ln_before", "ln_after", "gate"},
            where);
  nlohmann::json n;
  n["size"] = option_int(o, "size", 0, where, 1, 4 * d.hidden);
  n["placement"] = option_choice(o, "placement", "pfeiffer", {"pfeiffer", "houlsby"}, where);
  n["activation"] = option_choice(o, "activation", n["placement"] == "houlsby" ? "swish" : "relu",
                                  adapter_activations(), where);
  n["init"] = option_choice(o, "init", "bert", {"bert", "mam", "houlsby"}, where);
  n["scaling"] = parse_scaling(o, 1.0, where);
  n["ln_before"] = option_bool(o, "ln_before", false, where);
  n["ln_after"] = option_bool(o, "ln_after", false, where);
  n["gate"] = option_gate(o, d, where);
  return n;
}

Counts SerialAdapterSpec::layer_counts(const nlohmann::json& o, const ModelDims& d) const {
  const std::int64_t locations = o.at("placement") == "houlsby" ? 2 : 1;
  const auto per = bottleneck_parameters(d.hidden, o.at("size").get<std::int64_t>(),
                                         o.at("ln_before").get<bool>(), o.at("ln_after").get<bool>(),
                                         o.at("scaling").is_string(), o.at("gate").get<bool>());
  return {locations * per, locations * per};
}

std::string ParallelAdapterSpec::name() const { return "parallel_adapter"; }
std::string ParallelAdapterSpec::summary() const {
  return "parallel bottleneck adapter (He et al.): scaled, beside the FFN and/or attention sublayer";
}

nlohmann::json ParallelAdapterSpec::normalise(const nlohmann::json& o, const std::string& where,
                                              const ModelDims& d) const {
  if (absent_if_zero(o, "size", where)) return nullptr;
  only_keys(o, {"size", "location", "scaling", "activation", "init"}, where);
  nlohmann::json n;
  n["size"] = option_int(o, "size", 0, where, 1, 4 * d.hidden);
  n["location"] = option_choice(o, "location", "ffn", {"ffn", "attn", "both"}, where);
  n["scaling"] = parse_scaling(o, 4.0, where);
  n["activation"] = option_choice(o, "activation", "relu", adapter_activations(), where);
  n["init"] = option_choice(o, "init", "mam", {"mam", "bert", "houlsby"}, where);
  return n;
}

Counts ParallelAdapterSpec::layer_counts(const nlohmann::json& o, const ModelDims& d) const {
  const std::int64_t locations = o.at("location") == "both" ? 2 : 1;
  const auto per = bottleneck_parameters(d.hidden, o.at("size").get<std::int64_t>(), false, false,
                                         o.at("scaling").is_string(), false);
  return {locations * per, locations * per};
}

// Per-layer space: a Pfeiffer-placed serial adapter of 0, 1, 2, 4, ... H/2.
std::optional<SearchDimension> SerialAdapterSpec::search_dimension(const ModelDims& dims) const {
  return SearchDimension{"size", zero_and_powers_of_two(dims.hidden / 2), nlohmann::json::object()};
}

nlohmann::json SerialAdapterSpec::example() const {
  return nlohmann::json({{"size", 8},
                         {"placement", "houlsby"},
                         {"ln_before", true},
                         {"ln_after", true},
                         {"scaling", "learned"},
                         {"gate", true}});
}
nlohmann::json SerialAdapterSpec::identity_example() const {
  return nlohmann::json({{"size", 8}, {"init", "mam"}});
}

// Per-layer space: a parallel adapter at the FFN, scale 4, of 0, 1, 2, 4, ... H/2.
std::optional<SearchDimension> ParallelAdapterSpec::search_dimension(const ModelDims& dims) const {
  return SearchDimension{
      "size", zero_and_powers_of_two(dims.hidden / 2), {{"location", "ffn"}, {"scaling", 4.0}}};
}

nlohmann::json ParallelAdapterSpec::example() const {
  return nlohmann::json({{"size", 8}, {"location", "both"}, {"scaling", "learned"}, {"init", "bert"}});
}
nlohmann::json ParallelAdapterSpec::identity_example() const { return nlohmann::json({{"size", 8}}); }

}  // namespace autopeft::peft::methods
