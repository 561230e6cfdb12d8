#pragma once
#include "peft/spec/method_spec.h"

namespace autopeft::peft::methods {

// prefix: {"length": P, "gate": false}. Every layer with a prefix draws its keys and values from
// one reparametrisation shared by those layers (AdapterHub's generator): an embedding of
// max(P) rows, then Linear(H, W) -> tanh -> Linear(W, n * 2 * H) for the n layers with a prefix
// (W = "prefix_mlp": {"hidden": 512} of the config); layer j takes the first P_j rows of its
// slice. Stored: the ejected table, 2 * P * H per layer (AutoPEFT's and UniPELT's cost).
// Positions are not shifted (AdapterHub; HF PEFT shifts them).
class PrefixSpec : public MethodSpec {
 public:
  std::string name() const override;
  std::string summary() const override;
  nlohmann::json normalise(const nlohmann::json& options, const std::string& where,
                           const ModelDims& dims) const override;
  nlohmann::json example() const override;
  nlohmann::json identity_example() const override;
  std::optional<SearchDimension> search_dimension(const ModelDims& dims) const override;
  Counts layer_counts(const nlohmann::json& options, const ModelDims& dims) const override;
  Counts shared_counts(const std::vector<std::pair<std::int64_t, nlohmann::json>>& layers,
                       const nlohmann::json& globals, const ModelDims& dims) const override;
};

// ia3: {"targets": ["k", "v", "ffn"]}: learned vectors, initialised to 1, that scale the key and
// value projections' outputs and the FFN output projection's input (HF PEFT's IA3 for BERT).
class Ia3Spec : public MethodSpec {
 public:
  std::string name() const override;
  std::string summary() const override;
  nlohmann::json normalise(const nlohmann::json& options, const std::string& where,
                           const ModelDims& dims) const override;
  nlohmann::json example() const override;
  nlohmann::json identity_example() const override;
  Counts layer_counts(const nlohmann::json& options, const ModelDims& dims) const override;
};

// The prefix MLP width from the config's globals ("prefix_mlp": {"hidden": W}), default 512.
std::int64_t prefix_mlp_hidden(const nlohmann::json& globals);

}  // namespace autopeft::peft::methods
