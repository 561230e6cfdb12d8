#pragma once
// A model folder's backbone, of any family, with a PEFT configuration installed: what `peft
// export` and `study export` write from.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "peft/export.h"
#include "peft/peft_model.h"
#include "peft/spec/config_import.h"
#include "peft/spec/model_dims.h"

namespace autopeft::cli {

struct InstalledPeft {
  peft::PeftConfig config;
  std::unique_ptr<peft::PeftModel> model;  // keeps its backbone alive
  peft::ExportInfo info;                   // base_model and the task type the family exports with
};

// Loads `model_dir` (an encoder with its checkpoint's own head, a GPT-2 / Llama, or a T5), makes
// the configuration from the backbone's dims and installs it (`source` names it in errors).
InstalledPeft install_peft(const std::string& model_dir,
                           const std::function<peft::PeftConfig(const peft::ModelDims&)>& config_for,
                           const std::string& source);

// Installs a `peft export --format native` folder (peft_config.json, peft_weights.safetensors) in
// `model` (a backbone holder PeftModel takes) and puts the model in eval mode.
template <typename Model>
std::unique_ptr<peft::PeftModel> apply_native_export(Model model, const peft::ModelDims& dims,
                                                     const std::string& dir) {
  const auto config_file = (std::filesystem::path(dir) / "peft_config.json").string();
  auto pm =
      std::make_unique<peft::PeftModel>(model, peft::import_config_file(config_file, dims), config_file);
  pm->load_weights((std::filesystem::path(dir) / "peft_weights.safetensors").string());
  model->eval();
  return pm;
}

}  // namespace autopeft::cli
