#pragma once
#include <utility>

#include "peft/spec/method_spec.h"

namespace autopeft::peft::methods {

// The linear points LoRA may target, by their short names ("q" is "layer.i.attn.q").
const std::vector<std::string>& lora_targets();
// {in, out} of a target's linear layer.
std::pair<std::int64_t, std::int64_t> lora_target_shape(const std::string& target, const ModelDims& dims);

// Rank and alpha of one target in a layer's normalised options (per-target overrides first).
std::int64_t lora_rank(const nlohmann::json& options, const std::string& target);
double lora_alpha(const nlohmann::json& options, const std::string& target);

class LoraSpec : public MethodSpec {
 public:
  std::string name() const override;
  std::string summary() const override;
  nlohmann::json normalise(const nlohmann::json& options, const std::string& where,
                           const ModelDims& dims) const override;
  nlohmann::json example() const override;
  nlohmann::json identity_example() const override;
  std::optional<SearchDimension> search_dimension(const ModelDims& dims) const override;
  Counts layer_counts(const nlohmann::json& options, const ModelDims& dims) const override;
};

}  // namespace autopeft::peft::methods
