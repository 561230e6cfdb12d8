#include "peft/spec/search_spaces.h"

#include <map>

#include "core/errors.h"
#include "peft/spec/method_spec.h"
#include "peft/spec/presets.h"

namespace autopeft::peft {

const std::vector<std::string>& space_preset_names() {
  static const std::vector<std::string> n = {"autopeft", "per-layer"};
  return n;
}

bool is_space_preset(const std::string& name) {
  for (const auto& n : space_preset_names())
    if (n == name) return true;
  return false;
}

nlohmann::json space_preset(const std::string& name, const ModelDims& dims) {
  nlohmann::json space = nlohmann::json::array();
  if (name == "autopeft") {
    for (const char* k : {"serial", "parallel", "prefix"})
      space.push_back({{"name", k}, {"type", "int"}, {"low", 0}, {"high", 10}});
    for (std::int64_t i = 0; i < dims.layers; ++i)
      space.push_back({{"name", "layer." + std::to_string(i)}, {"type", "bool"}});
    return space;
  }
  if (name == "per-layer") {
    const auto& registry = MethodRegistry::instance();
    for (std::int64_t i = 0; i < dims.layers; ++i)
      for (const auto& method : registry.names()) {
        const auto d = registry.find(method)->search_dimension(dims);
        if (!d) continue;
        space.push_back({{"name", "layer." + std::to_string(i) + "." + method + "." + d->option},
                         {"type", "ordinal"},
                         {"values", d->values}});
      }
    return space;
  }
  std::string known;
  for (const auto& n : space_preset_names()) known += (known.empty() ? "" : ", ") + n;
  throw_user_error("space", "unknown preset '" + name + "' (known: " + known + ")");
}

namespace {

PeftConfig sappa_config(const nlohmann::json& params, const ModelDims& dims) {
  nlohmann::json args = nlohmann::json::object();
  nlohmann::json mask = nlohmann::json::array();
  for (const char* k : {"serial", "parallel", "prefix"}) {
    if (!params.contains(k)) throw_user_error(std::string("params.") + k, "missing (autopeft space)");
    args[k] = params[k].get<std::int64_t>();
  }
  for (std::int64_t i = 0; i < dims.layers; ++i) {
    const auto key = "layer." + std::to_string(i);
    if (!params.contains(key)) throw_user_error("params." + key, "missing (autopeft space)");
    mask.push_back(params[key].is_boolean() ? (params[key].get<bool>() ? 1 : 0) : params[key].get<int>());
  }
  args["layers"] = mask;
  for (auto it = params.begin(); it != params.end(); ++it)
    if (it.key() != "serial" && it.key() != "parallel" && it.key() != "prefix" &&
        it.key().rfind("layer.", 0) != 0)
      throw_user_error("params." + it.key(), "is not a dimension of the autopeft space");
  return preset("sappa", dims, args);
}

}  // namespace

PeftConfig config_from_params(const std::string& space, const nlohmann::json& params, const ModelDims& dims) {
  if (!params.is_object()) throw_user_error("params", "expected an object, got " + params.dump());
  if (space == "autopeft") return sappa_config(params, dims);
  const auto& registry = MethodRegistry::instance();
  // scope ("all" or a layer index) -> method -> options
  std::map<std::string, std::map<std::string, nlohmann::json>> modules;
  for (auto it = params.begin(); it != params.end(); ++it) {
    const auto& name = it.key();
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1)
      parts.push_back(name.substr(start, dot - start));
    parts.push_back(name.substr(start));
    const bool layer_form = parts.size() == 4 && parts[0] == "layer";
    const bool all_form = parts.size() == 3 && parts[0] == "all";
    if (!layer_form && !all_form)
      throw_user_error("params." + name,
                       "is not a PEFT dimension (layer.I.METHOD.OPTION or all.METHOD.OPTION)");
    const std::string scope = layer_form ? parts[1] : "all";
    const std::string& method = parts[layer_form ? 2 : 1];
    const std::string& option = parts[layer_form ? 3 : 2];
    registry.get(method, "params." + name);
    if (layer_form) {
      std::size_t used = 0;
      long idx = -1;
      try {
        idx = std::stol(scope, &used);
      } catch (const std::exception&) {
      }
      if (used != scope.size() || idx < 0 || idx >= dims.layers)
        throw_user_error("params." + name,
                         "layer '" + scope + "' is not in 0.." + std::to_string(dims.layers - 1));
    }
    modules[scope][method][option] = *it;
  }
  nlohmann::json j = {{"autopeft_peft_config", kPeftConfigVersion}, {"name", space}};
  auto build = [&](const std::map<std::string, nlohmann::json>& methods) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [method, options] : methods) {
      const auto d = registry.find(method)->search_dimension(dims);
      nlohmann::json o = d ? d->fixed : nlohmann::json::object();
      if (o.is_null()) o = nlohmann::json::object();
      for (auto it = options.begin(); it != options.end(); ++it) o[it.key()] = it.value();
      if (d && o.contains(d->option) && o[d->option].is_number() && o[d->option].get<double>() == 0) continue;
      out[method] = o;
    }
    return out;
  };
  const auto all_it = modules.find("all");
  const nlohmann::json shared = all_it != modules.end() ? build(all_it->second) : nlohmann::json::object();
  j["all_layers"] = shared;
  nlohmann::json layers = nlohmann::json::object();
  for (const auto& [scope, methods] : modules) {
    if (scope == "all") continue;
    nlohmann::json own = shared;
    const auto layer_modules = build(methods);
    for (auto it = layer_modules.begin(); it != layer_modules.end();
         ++it) {  // a layer's options refine "all"
      if (!own.contains(it.key())) own[it.key()] = nlohmann::json::object();
      for (auto o = it.value().begin(); o != it.value().end(); ++o) own[it.key()][o.key()] = o.value();
    }
    // a method set to 0 in a layer removes what "all" gave it
    for (const auto& [method, options] : methods) {
      const auto d = registry.find(method)->search_dimension(dims);
      if (d && options.contains(d->option) && options.at(d->option).is_number() &&
          options.at(d->option).get<double>() == 0)
        own.erase(method);
    }
    layers[scope] = own;
  }
  if (!layers.empty()) j["layers"] = layers;
  return PeftConfig::from_json(j, "params");
}

}  // namespace autopeft::peft
