#pragma once
// PeftConfig: which PEFT modules each layer of a backbone carries, and their options. Torch-free.
// JSON (schema version 1):
//   {"autopeft_peft_config": 1,
//    "name": "lora-qv-r8",                          optional label
//    "all_layers": {"lora": {"r": 8}},             modules of every layer not listed in "layers"
//    "layers": {"3": {"serial_adapter": {"size": 64}}, ...},   a layer's own modules (replace all_layers)
//    "leave_out": [0, 1],                          layers with no module at all
//    "prefix_mlp": {"hidden": 512},                the shared prefix reparametrisation
//    "embeddings": {"prompt_tuning": {"length": 20}}}  model-level methods (at most one)
// Method names and options: see the method specs (peft/spec/methods/), listed by
// `autopeft peft methods`. A size field of 0 means "no module"; options beside it are an error.
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "peft/spec/method_spec.h"

namespace autopeft::peft {

constexpr int kPeftConfigVersion = 1;

struct PeftConfig {
  std::string name;
  nlohmann::json all_layers;                      // object of method -> options, or null
  std::map<std::int64_t, nlohmann::json> layers;  // explicit layers
  std::set<std::int64_t> leave_out;
  nlohmann::json prefix_mlp = {{"hidden", 512}};
  nlohmann::json embeddings;  // object of model-level method -> options, or null

  // Parses and checks the structure (unknown keys and methods, types); `source` names the file.
  static PeftConfig from_json(const nlohmann::json& j, const std::string& source);
  static PeftConfig from_file(const std::string& path);
  nlohmann::json to_json() const;
  nlohmann::json globals() const { return {{"prefix_mlp", prefix_mlp}}; }

  // The modules of every layer for a backbone of these dims: result[i] maps method -> options
  // with defaults filled in (absent modules dropped). Errors (layer out of range, bad options)
  // name the field, e.g. "cfg.json: layers.3.lora.r".
  std::vector<nlohmann::json> resolve(const ModelDims& dims, const std::string& source = "config") const;
  // The model-level modules (method -> normalised options), an empty object when none.
  nlohmann::json resolve_embeddings(const ModelDims& dims, const std::string& source = "config") const;
};

struct CountReport {
  std::int64_t trainable = 0;  // parameters the PEFT modules add that train (head excluded)
  std::int64_t stored = 0;     // what the exported adapter keeps
  std::int64_t head = 0;       // the task head
  std::int64_t backbone = 0;   // pretrained weights, tied ones once, head excluded
  double params_percent = 0;   // 100 * stored / backbone: the cost objective of studies
  nlohmann::json to_json() const;
};

// Closed-form counts, without building anything.
CountReport count_parameters(const PeftConfig& config, const ModelDims& dims,
                             const std::string& head = "none", std::int64_t labels = 0);

}  // namespace autopeft::peft
