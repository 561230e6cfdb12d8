#pragma once
// LoRA on a linear layer (Hu et al. 2021), with HF PEFT's semantics:
//   y = base(x) + s * B(A(dropout(x))),  A: [r, in], B: [out, r], no biases,
//   s = alpha / r, or alpha / sqrt(r) with rsLoRA;
//   init: A ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), B = 0
//         ("gaussian": A ~ N(0, 1/r), B = 0).
// The base layer's weight and bias are frozen. merge() folds s*B*A into the base weight (for
// inference and export); unmerge() takes it out again.
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <string>

namespace autopeft::peft {

struct LoraOptions {
  int r = 8;                     // rank; must be >= 1
  double alpha = 8.0;            // lora_alpha (HF PEFT default 8)
  double dropout = 0.0;          // dropout on the LoRA branch's input
  bool use_rslora = false;       // s = alpha / sqrt(r) instead of alpha / r
  std::string init = "kaiming";  // "kaiming" (HF PEFT's init_lora_weights=True) or "gaussian"
};

class LoraLinearImpl : public torch::nn::Module {
 public:
  LoraLinearImpl(torch::nn::Linear base, const LoraOptions& options);

  torch::Tensor forward(const torch::Tensor& x);
  void merge();    // no-op when already merged
  void unmerge();  // no-op when not merged
  bool merged() const { return merged_; }
  double scaling() const { return scaling_; }
  // s * B @ A, the update merge() adds to the base weight: [out, in].
  torch::Tensor delta_weight() const;

  torch::nn::Linear base{nullptr};
  torch::Tensor lora_A;  // [r, in]
  torch::Tensor lora_B;  // [out, r]

 private:
  LoraOptions options_;
  torch::nn::Dropout dropout_{nullptr};
  double scaling_ = 1.0;
  bool merged_ = false;
};
TORCH_MODULE(LoraLinear);

}  // namespace autopeft::peft
