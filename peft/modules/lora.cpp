#include "peft/modules/lora.h"

#include <torch/nn/functional/linear.h>
#include <torch/nn/init.h>
#include <torch/torch.h>

#include <cmath>

namespace autopeft::peft {

LoraAugment::LoraAugment(std::int64_t in, std::int64_t out, const LoraOptions& o) : options_(o) {
  lora_A = register_parameter("lora_A", torch::empty({o.r, in}));
  lora_B = register_parameter("lora_B", torch::zeros({out, o.r}));
  {
    torch::NoGradGuard g;
    if (o.init == "gaussian")
      lora_A.normal_(0.0, 1.0 / static_cast<double>(o.r));
    else
      torch::nn::init::kaiming_uniform_(lora_A, std::sqrt(5.0));
  }
  dropout_ = register_module("dropout", torch::nn::Dropout(o.dropout));
  if (o.gate) {
    gate = register_module("gate", torch::nn::Linear(in, 1));
    torch::NoGradGuard g;
    gate->weight.normal_(0.0, 0.02);
  }
  scaling_ =
      o.use_rslora ? o.alpha / std::sqrt(static_cast<double>(o.r)) : o.alpha / static_cast<double>(o.r);
}

torch::Tensor LoraAugment::forward(const torch::Tensor& x, const torch::Tensor& y) {
  if (merged_) return y;
  const auto h = options_.dropout > 0.0 ? dropout_->forward(x) : x;
  namespace F = torch::nn::functional;
  auto delta = F::linear(F::linear(h, lora_A), lora_B);
  if (!gate.is_empty()) {
    // [.., S, in] -> per-example gate [.., 1, 1]
    auto g = torch::sigmoid(gate->forward(x)).mean(-2, /*keepdim=*/true);
    return y + delta * g;
  }
  return y + delta * scaling_;
}

torch::Tensor LoraAugment::delta_weight() const { return torch::matmul(lora_B, lora_A) * scaling_; }

void LoraAugment::merge(model::InjectableLinearImpl& linear) {
  if (merged_) return;
  if (!gate.is_empty())
    throw std::logic_error("a gated LoRA update depends on the input and cannot be merged");
  torch::NoGradGuard g;
  rows(linear.weight).add_(delta_weight().to(linear.weight.dtype()));
  merged_ = true;
}

void LoraAugment::unmerge(model::InjectableLinearImpl& linear) {
  if (!merged_) return;
  torch::NoGradGuard g;
  rows(linear.weight).sub_(delta_weight().to(linear.weight.dtype()));
  merged_ = false;
}

}  // namespace autopeft::peft
