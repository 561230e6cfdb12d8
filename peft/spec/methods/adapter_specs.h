#pragma once
// Bottleneck adapters (AdapterHub semantics): serial (Pfeiffer or Houlsby placement) and
// parallel (He et al.). Module: up(act(down(x))), bottleneck `size`.
#include "peft/spec/method_spec.h"

namespace autopeft::peft::methods {

const std::vector<std::string>& adapter_activations();

// serial_adapter: {"size": m, "placement": "pfeiffer" (after the FFN) | "houlsby" (after
// attention and after the FFN), "activation": relu (pfeiffer) / swish (houlsby), "init": "bert" |
// "mam" | "houlsby" (default bert), "scaling": 1.0 | "learned", "ln_before": false,
// "ln_after": false, "gate": false (UniPELT)}
class SerialAdapterSpec : public MethodSpec {
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

// parallel_adapter: {"size": m, "location": "ffn" | "attn" | "both", "scaling": 4.0 | "learned",
// "activation": "relu", "init": "mam" (down kaiming, up zero; default) | "bert" | "houlsby"}:
// sublayer output h + s * up(act(down(x))) for the sublayer input x, before the residual LayerNorm.
class ParallelAdapterSpec : public MethodSpec {
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
