#include "peft/spec/peft_config.h"

#include <fstream>

#include "core/errors.h"
#include "core/json_file.h"

namespace autopeft::peft {

namespace {

void check_layer_modules(const nlohmann::json& modules, const std::string& where, bool model_level = false) {
  if (!modules.is_object())
    throw_user_error(where, "must be an object of method -> options, got " + modules.dump());
  for (auto it = modules.begin(); it != modules.end(); ++it) {
    const auto& spec = MethodRegistry::instance().get(it.key(), where + "." + it.key());
    if (spec.model_level() != model_level)
      throw_user_error(where + "." + it.key(),
                       model_level ? "a per-layer method; list it under all_layers or layers"
                                   : "acts on the input embeddings; list it under \"embeddings\"");
  }
  if (model_level && modules.size() > 1) throw_user_error(where, "at most one model-level method");
}

std::int64_t layer_index(const std::string& key, const std::string& where) {
  std::size_t used = 0;
  long long i = -1;
  try {
    i = std::stoll(key, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != key.size() || i < 0)
    throw_user_error(where, "layer keys are indices \"0\", \"1\", ...; got \"" + key + "\"");
  return i;
}

}  // namespace

PeftConfig PeftConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw_user_error(source, "a PeftConfig must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const std::set<std::string> known = {
        "autopeft_peft_config", "name", "all_layers", "layers", "leave_out", "prefix_mlp", "embeddings"};
    if (!known.count(it.key()))
      throw_user_error(
          source + ": " + it.key(),
          "unknown key (known: autopeft_peft_config, name, all_layers, layers, leave_out, prefix_mlp, "
          "embeddings)");
  }
  if (!j.contains("autopeft_peft_config") || !j["autopeft_peft_config"].is_number_integer())
    throw_user_error(source + ": autopeft_peft_config", "missing schema version (1)");
  if (j["autopeft_peft_config"].get<int>() != kPeftConfigVersion)
    throw_user_error(source + ": autopeft_peft_config", "schema version " + j["autopeft_peft_config"].dump() +
                                                            " is not supported (this build reads 1)");
  PeftConfig c;
  if (j.contains("name")) {
    if (!j["name"].is_string()) throw_user_error(source + ": name", "must be a string");
    c.name = j["name"].get<std::string>();
  }
  if (j.contains("all_layers") && !j["all_layers"].is_null()) {
    check_layer_modules(j["all_layers"], source + ": all_layers");
    c.all_layers = j["all_layers"];
  }
  if (j.contains("layers")) {
    if (!j["layers"].is_object())
      throw_user_error(source + ": layers", "must be an object of \"index\" -> modules");
    for (auto it = j["layers"].begin(); it != j["layers"].end(); ++it) {
      const auto where = source + ": layers." + it.key();
      c.layers[layer_index(it.key(), where)] = it.value();
      check_layer_modules(it.value(), where);
    }
  }
  if (j.contains("leave_out")) {
    if (!j["leave_out"].is_array())
      throw_user_error(source + ": leave_out", "must be a list of layer indices");
    for (const auto& v : j["leave_out"]) {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
        throw_user_error(source + ": leave_out", "entries must be layer indices, got " + v.dump());
      c.leave_out.insert(v.get<std::int64_t>());
    }
  }
  if (j.contains("embeddings") && !j["embeddings"].is_null()) {
    check_layer_modules(j["embeddings"], source + ": embeddings", true);
    c.embeddings = j["embeddings"];
  }
  if (j.contains("prefix_mlp")) {
    const auto& p = j["prefix_mlp"];
    only_keys(p, {"hidden"}, source + ": prefix_mlp");
    c.prefix_mlp = {{"hidden", option_int(p, "hidden", 512, source + ": prefix_mlp", 0, 1 << 20)}};
  }
  return c;
}

PeftConfig PeftConfig::from_file(const std::string& path) {
  const nlohmann::json j = read_json_file(path, "PEFT config");
  return from_json(j, path);
}

nlohmann::json PeftConfig::to_json() const {
  nlohmann::ordered_json j;
  j["autopeft_peft_config"] = kPeftConfigVersion;
  if (!name.empty()) j["name"] = name;
  if (!all_layers.is_null()) j["all_layers"] = all_layers;
  if (!layers.empty()) {
    nlohmann::ordered_json l = nlohmann::ordered_json::object();
    for (const auto& [i, m] : layers) l[std::to_string(i)] = m;
    j["layers"] = l;
  }
  if (!leave_out.empty()) j["leave_out"] = leave_out;
  j["prefix_mlp"] = prefix_mlp;
  if (!embeddings.is_null()) j["embeddings"] = embeddings;
  return j;
}

std::vector<nlohmann::json> PeftConfig::resolve(const ModelDims& dims, const std::string& source) const {
  const auto& registry = MethodRegistry::instance();
  for (const auto& [i, m] : layers)
    if (i >= dims.layers)
      throw_user_error(source + ": layers." + std::to_string(i),
                       "layer index out of range for a " + std::to_string(dims.layers) + "-layer model");
  for (auto i : leave_out)
    if (i >= dims.layers)
      throw_user_error(source + ": leave_out", "layer " + std::to_string(i) + " is out of range for a " +
                                                   std::to_string(dims.layers) + "-layer model");
  std::vector<nlohmann::json> out(static_cast<std::size_t>(dims.layers), nlohmann::json::object());
  for (std::int64_t i = 0; i < dims.layers; ++i) {
    if (leave_out.count(i)) continue;
    const auto it = layers.find(i);
    const nlohmann::json& modules = it != layers.end() ? it->second : all_layers;
    if (modules.is_null()) continue;
    const std::string base =
        it != layers.end() ? source + ": layers." + std::to_string(i) : source + ": all_layers";
    for (auto m = modules.begin(); m != modules.end(); ++m) {
      auto normalised =
          registry.get(m.key(), base + "." + m.key()).normalise(m.value(), base + "." + m.key(), dims);
      if (!normalised.is_null()) out[static_cast<std::size_t>(i)][m.key()] = std::move(normalised);
    }
  }
  return out;
}

nlohmann::json PeftConfig::resolve_embeddings(const ModelDims& dims, const std::string& source) const {
  nlohmann::json out = nlohmann::json::object();
  if (embeddings.is_null()) return out;
  for (auto m = embeddings.begin(); m != embeddings.end(); ++m) {
    const auto where = source + ": embeddings." + m.key();
    auto n = MethodRegistry::instance().get(m.key(), where).normalise(m.value(), where, dims);
    if (!n.is_null()) out[m.key()] = std::move(n);
  }
  return out;
}

nlohmann::json CountReport::to_json() const {
  nlohmann::ordered_json j;
  j["trainable"] = trainable;
  j["stored"] = stored;
  j["head"] = head;
  j["backbone"] = backbone;
  j["params_percent"] = params_percent;
  return j;
}

CountReport count_parameters(const PeftConfig& config, const ModelDims& dims, const std::string& head,
                             std::int64_t labels) {
  const auto layers = config.resolve(dims);
  CountReport r;
  Counts total;
  for (const auto& name : MethodRegistry::instance().names()) {
    const auto& spec = *MethodRegistry::instance().find(name);
    std::vector<std::pair<std::int64_t, nlohmann::json>> using_layers;
    for (std::size_t i = 0; i < layers.size(); ++i)
      if (layers[i].contains(name)) {
        const auto index = static_cast<std::int64_t>(i);
        total += spec.layer_counts(layers[i][name], at_layer(dims, index));
        using_layers.emplace_back(index, layers[i][name]);
      }
    total += spec.shared_counts(using_layers, config.globals(), dims);
  }
  const auto model_level = config.resolve_embeddings(dims);
  for (auto m = model_level.begin(); m != model_level.end(); ++m)
    total += MethodRegistry::instance().find(m.key())->layer_counts(m.value(), dims);
  r.trainable = total.trainable;
  r.stored = total.stored;
  r.head = head_parameters(dims, head, labels);
  r.backbone = backbone_parameters(dims);
  r.params_percent =
      r.backbone > 0 ? 100.0 * static_cast<double>(r.stored) / static_cast<double>(r.backbone) : 0.0;
  return r;
}

}  // namespace autopeft::peft
