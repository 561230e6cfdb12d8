#include "peft/spec/presets.h"

#include "core/errors.h"

namespace autopeft::peft {

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> n = {"lora", "pfeiffer", "houlsby", "prefix", "parallel",
                                             "ia3",  "mam",      "unipelt", "sappa"};
  return n;
}

std::int64_t sappa_size(std::int64_t hidden, std::int64_t k) {
  if (k >= 10) return 0;
  return std::max<std::int64_t>(1, hidden >> k);
}

namespace {
nlohmann::json all(const nlohmann::json& modules, const std::string& name, std::int64_t prefix_hidden = 512) {
  return {{"autopeft_peft_config", kPeftConfigVersion},
          {"name", name},
          {"all_layers", modules},
          {"prefix_mlp", {{"hidden", prefix_hidden}}}};
}
}  // namespace

PeftConfig preset(const std::string& name, const ModelDims& d, const nlohmann::json& args) {
  const auto H = d.hidden;
  nlohmann::json j;
  if (name == "lora") {
    const auto r = args.is_object() ? args.value("r", 8) : 8;
    j = all({{"lora", {{"r", r}, {"alpha", 2 * r}, {"targets", {"q", "v"}}}}},
            "lora-qv-r" + std::to_string(r));
  } else if (name == "pfeiffer") {
    j = all({{"serial_adapter", {{"size", std::max<std::int64_t>(1, H / 16)}}}}, "pfeiffer-rf16");
  } else if (name == "houlsby") {
    j = all({{"serial_adapter", {{"size", std::max<std::int64_t>(1, H / 16)}, {"placement", "houlsby"}}}},
            "houlsby-rf16");
  } else if (name == "prefix") {
    j = all({{"prefix", {{"length", 10}}}}, "prefix-10", 800);
  } else if (name == "parallel") {
    j = all({{"parallel_adapter", {{"size", std::max<std::int64_t>(1, H / 2)}, {"scaling", 4.0}}}},
            "parallel-rf2");
  } else if (name == "ia3") {
    j = all({{"ia3", {{"targets", {"k", "v", "ffn"}}}}}, "ia3");
  } else if (name == "mam") {
    j = all({{"prefix", {{"length", 30}}},
             {"parallel_adapter", {{"size", std::max<std::int64_t>(1, H / 2)}, {"scaling", 4.0}}}},
            "mam", 800);
  } else if (name == "unipelt") {
    j = all({{"prefix", {{"length", 10}, {"gate", true}}},
             {"serial_adapter", {{"size", std::max<std::int64_t>(1, H / 16)}, {"gate", true}}},
             {"lora", {{"r", 8}, {"alpha", 2}, {"targets", {"q", "v"}}, {"gate", true}}}},
            "unipelt");
  } else if (name == "sappa") {
    if (!args.is_object())
      throw_user_error("sappa", "needs {\"serial\": k, \"parallel\": k, \"prefix\": k, \"layers\": [..]}");
    auto k = [&](const char* key) {
      const auto v = args.value(key, static_cast<std::int64_t>(10));
      if (v < 0 || v > 10) throw_user_error(std::string("sappa.") + key, "log2 reduction must be in [0, 10]");
      return sappa_size(H, v);
    };
    nlohmann::json modules = nlohmann::json::object();
    if (const auto s = k("serial"))
      modules["serial_adapter"] = {{"size", s}, {"activation", "relu"}, {"init", "bert"}};
    if (const auto p = k("parallel"))
      modules["parallel_adapter"] = {{"size", p}, {"scaling", 4.0}, {"init", "mam"}};
    if (const auto x = k("prefix")) modules["prefix"] = {{"length", x}};
    j = all(modules, "sappa", 800);
    if (args.contains("layers")) {
      const auto& mask = args["layers"];
      if (!mask.is_array() || static_cast<std::int64_t>(mask.size()) != d.layers)
        throw_user_error("sappa.layers", "needs one 0/1 flag per layer (" + std::to_string(d.layers) + ")");
      nlohmann::json leave = nlohmann::json::array();
      for (std::size_t i = 0; i < mask.size(); ++i)
        if (mask[i] == 0) leave.push_back(i);
      if (!leave.empty()) j["leave_out"] = leave;
    }
  } else {
    std::string list;
    for (const auto& n : preset_names()) list += (list.empty() ? "" : ", ") + n;
    throw_user_error("preset", "unknown preset '" + name + "' (known: " + list + ")");
  }
  return PeftConfig::from_json(j, "preset:" + name);
}

}  // namespace autopeft::peft
