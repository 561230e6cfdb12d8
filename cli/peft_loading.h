#pragma once
// A model folder's backbone, of any family, with a PEFT configuration installed: what `peft
// export` and `study export` write from.
#include <functional>
#include <memory>
#include <string>

#include "peft/export.h"
#include "peft/peft_model.h"

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

}  // namespace autopeft::cli
