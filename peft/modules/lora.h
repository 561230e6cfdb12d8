#pragma once
// LoRA as an augment of a linear injection point, with HF PEFT's semantics:
//   y = W x + b + s * B(A(dropout(x))),  A: [r, in], B: [out, r], no biases,
//   s = alpha / r, or alpha / sqrt(r) with rsLoRA;
//   init "kaiming": A ~ kaiming_uniform(a = sqrt 5) = U(+-1/sqrt(in)), B = 0;
//        "gaussian": A ~ N(0, 1/r), B = 0.
// merge() folds s * B A into the linear layer's weight; unmerge() takes it out again.
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <string>

#include "model/injection.h"

namespace autopeft::peft {

struct LoraOptions {
  std::int64_t r = 8;
  double alpha = 8.0;
  double dropout = 0.0;
  bool use_rslora = false;
  std::string init = "kaiming";
  // UniPELT gate: the scaling is mean over the sequence of sigmoid(Linear(in, 1)(x)), per example,
  // instead of alpha / r (AdapterHub's use_gating); merge() is then impossible.
  bool gate = false;
};

class LoraAugment : public model::LinearAugment {
 public:
  LoraAugment(std::int64_t in_features, std::int64_t out_features, const LoraOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& y) override;
  torch::Tensor delta_weight() const;  // s * B A, [out, in]
  void merge(model::InjectableLinearImpl& linear);
  void unmerge(model::InjectableLinearImpl& linear);
  bool merged() const { return merged_; }
  double scaling() const { return scaling_; }

  torch::Tensor lora_A, lora_B;
  torch::nn::Linear gate{nullptr};

 private:
  LoraOptions options_;
  torch::nn::Dropout dropout_{nullptr};
  double scaling_;
  bool merged_ = false;
};

}  // namespace autopeft::peft
