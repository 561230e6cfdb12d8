#pragma once
// Model-level methods, under "embeddings" in a PeftConfig (as in HF PEFT, prompts are prepended to
// the word embeddings; positions and token types then cover the whole sequence):
//   prompt_tuning: {"length": N, "init": "random" (N(0, 1)) | "vocab" (rows of the word embedding
//     table)}: N trained vectors; stored N x H.
//   p_tuning: {"length": N, "encoder": "mlp" | "lstm", "hidden": h (default H)}: an embedding of
//     N rows through an MLP (Linear(H,h) ReLU Linear(h,h) ReLU Linear(h,H)) or a 2-layer
//     bidirectional LSTM(H, h) and Linear(2h,2h) ReLU Linear(2h,H); stored: the encoder's output,
//     N x H (HF PEFT saves that).
#include "peft/spec/method_spec.h"

namespace autopeft::peft::methods {

class PromptTuningSpec : public MethodSpec {
 public:
  std::string name() const override;
  std::string summary() const override;
  bool model_level() const override { return true; }
  nlohmann::json normalise(const nlohmann::json& options, const std::string& where,
                           const ModelDims& dims) const override;
  nlohmann::json example() const override;
  nlohmann::json identity_example() const override;
  Counts layer_counts(const nlohmann::json& options, const ModelDims& dims) const override;
};

class PTuningSpec : public MethodSpec {
 public:
  std::string name() const override;
  std::string summary() const override;
  bool model_level() const override { return true; }
  nlohmann::json normalise(const nlohmann::json& options, const std::string& where,
                           const ModelDims& dims) const override;
  nlohmann::json example() const override;
  nlohmann::json identity_example() const override;
  Counts layer_counts(const nlohmann::json& options, const ModelDims& dims) const override;
};

}  // namespace autopeft::peft::methods
