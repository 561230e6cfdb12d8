#include "peft/spec/config_format.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/errors.h"
#include "core/json_file.h"

namespace autopeft::peft {

std::string_view format_name(ConfigFormat format) {
  switch (format) {
    case ConfigFormat::native: return "native";
    case ConfigFormat::hf_peft: return "hf-peft";
    case ConfigFormat::adapters: return "adapters";
  }
  return "?";
}

ConfigFormat parse_format(std::string_view name) {
  if (name == "native") return ConfigFormat::native;
  if (name == "hf-peft") return ConfigFormat::hf_peft;
  if (name == "adapters") return ConfigFormat::adapters;
  throw_user_error("--format",
                   "unknown format '" + std::string(name) + "' (expected native, hf-peft or adapters)");
}

namespace {
bool looks_like_adapters_config(const nlohmann::json& c) {
  // BnConfig.to_dict() has no "architecture" key; its bottleneck keys identify it.
  return c.is_object() && (c.contains("architecture") || c.contains("reduction_factor") ||
                           c.contains("mh_adapter") || c.contains("output_adapter"));
}
}  // namespace

ConfigFormat detect_config_format(const nlohmann::json& doc, const std::string& source) {
  if (!doc.is_object())
    throw_user_error(source,
                     std::string("a PEFT configuration must be a JSON object, not ") + doc.type_name());
  if (doc.contains("autopeft_peft_config")) return ConfigFormat::native;
  if (doc.contains("peft_type")) return ConfigFormat::hf_peft;
  if (doc.contains("config") && doc["config"].is_object()) {
    const auto version = doc.value("version", std::string());
    if (version.rfind("adapters.", 0) == 0 || looks_like_adapters_config(doc["config"]))
      return ConfigFormat::adapters;
  }
  if (looks_like_adapters_config(doc)) return ConfigFormat::adapters;
  throw_user_error(source,
                   "not a PEFT configuration: expected our PeftConfig (key \"autopeft_peft_config\"), "
                   "a Hugging Face PEFT adapter_config.json (key \"peft_type\") or an AdapterHub "
                   "adapter_config.json (keys \"config\" and \"version\")");
}

ConfigFormat detect_config_file_format(const std::string& path, nlohmann::json* document_out) {
  const nlohmann::json doc = read_json_file(path, "file");
  const ConfigFormat format = detect_config_format(doc, path);
  if (document_out) *document_out = std::move(doc);
  return format;
}

}  // namespace autopeft::peft
