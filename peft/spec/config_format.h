#pragma once
// Which kind of PEFT configuration a JSON document is. `--config` accepts three forms:
//   native     our PeftConfig: an object with "autopeft_peft_config" (the schema version);
//   hf-peft    a Hugging Face PEFT adapter_config.json: an object with "peft_type"
//              (the only key HF PEFT itself requires on load);
//   adapters   an AdapterHub adapter_config.json as `save_adapter` writes it: an object with
//              "config" (an object) and "version" starting with "adapters." — or the bare
//              `config.to_dict()` form, recognised by "architecture" or bottleneck keys.
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

namespace autopeft::peft {

enum class ConfigFormat { native, hf_peft, adapters };

std::string_view format_name(ConfigFormat format);
// Parses "native", "hf-peft", "adapters"; throws UserError naming the value otherwise.
ConfigFormat parse_format(std::string_view name);

// Detects the format of a parsed document; `source` (a path) names it in the error thrown when
// the document is none of the three.
ConfigFormat detect_config_format(const nlohmann::json& document, const std::string& source);

// Reads a JSON file and detects its format. Errors name the file (and the line and column of a
// JSON syntax error).
ConfigFormat detect_config_file_format(const std::string& path, nlohmann::json* document_out = nullptr);

}  // namespace autopeft::peft
