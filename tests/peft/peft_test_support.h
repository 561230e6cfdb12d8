#pragma once
// Helpers the PEFT test files share.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "peft/peft_model.h"
#include "peft/spec/method_spec.h"
#include "peft/spec/peft_config.h"

namespace autopeft::peft::testing {

// A configuration with one method: model-level methods (prompts) under "embeddings", the others on
// every layer but those left out.
inline PeftConfig config_with(const std::string& method, const nlohmann::json& options,
                              std::vector<std::int64_t> leave_out = {}) {
  const bool model_level = MethodRegistry::instance().find(method)->model_level();
  nlohmann::json j = {{"autopeft_peft_config", 1},
                      {model_level ? "embeddings" : "all_layers", {{method, options}}}};
  if (!leave_out.empty()) j["leave_out"] = leave_out;
  return PeftConfig::from_json(j, "test");
}

// The closed-form counts of `config` on `model`'s dims equal the built model's: the PEFT
// parameters (trainable, stored) and the backbone (counted before the modules are installed).
template <typename Model>
void expect_closed_form_counts(const std::shared_ptr<Model>& model, const PeftConfig& config) {
  const auto closed = count_parameters(config, dims_of(model->config()));
  std::int64_t backbone = 0;
  for (const auto& p : model->parameters()) backbone += p.numel();
  PeftModel peft(model, config);
  EXPECT_EQ(peft.trainable_count(), closed.trainable) << config.to_json().dump();
  EXPECT_EQ(peft.stored_count(), closed.stored) << config.to_json().dump();
  EXPECT_EQ(backbone, closed.backbone);
}

}  // namespace autopeft::peft::testing
