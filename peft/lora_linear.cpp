#include "peft/lora_linear.h"

#include <torch/nn/init.h>

#include <cmath>

#include "core/errors.h"

namespace autopeft::peft {

LoraLinearImpl::LoraLinearImpl(torch::nn::Linear base_layer, const LoraOptions& options)
    : base(register_module("base", std::move(base_layer))), options_(options) {
  if (options.r < 1) throw_user_error("lora.r", "rank must be at least 1, got " + std::to_string(options.r));
  if (options.dropout < 0.0 || options.dropout >= 1.0)
    throw_user_error("lora.dropout", "must be in [0, 1), got " + std::to_string(options.dropout));
  if (options.init != "kaiming" && options.init != "gaussian")
    throw_user_error("lora.init", "unknown init '" + options.init + "' (expected kaiming or gaussian)");
  for (auto& p : base->parameters()) p.set_requires_grad(false);

  const auto in = base->weight.size(1);
  const auto out = base->weight.size(0);
  const auto opts = base->weight.options();
  lora_A = register_parameter("lora_A", torch::empty({options.r, in}, opts));
  lora_B = register_parameter("lora_B", torch::zeros({out, options.r}, opts));
  {
    torch::NoGradGuard no_grad;
    if (options.init == "kaiming")
      torch::nn::init::kaiming_uniform_(lora_A, std::sqrt(5.0));
    else
      lora_A.normal_(0.0, 1.0 / options.r);
  }
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
  scaling_ = options.use_rslora ? options.alpha / std::sqrt(static_cast<double>(options.r))
                                : options.alpha / options.r;
}

torch::Tensor LoraLinearImpl::delta_weight() const { return torch::matmul(lora_B, lora_A) * scaling_; }

torch::Tensor LoraLinearImpl::forward(const torch::Tensor& x) {
  auto y = base->forward(x);
  if (merged_) return y;
  auto h = options_.dropout > 0.0 ? dropout_->forward(x) : x;
  return y + torch::nn::functional::linear(torch::nn::functional::linear(h, lora_A), lora_B) * scaling_;
}

void LoraLinearImpl::merge() {
  if (merged_) return;
  torch::NoGradGuard no_grad;
  base->weight.add_(delta_weight());
  merged_ = true;
}

void LoraLinearImpl::unmerge() {
  if (!merged_) return;
  torch::NoGradGuard no_grad;
  base->weight.sub_(delta_weight());
  merged_ = false;
}

}  // namespace autopeft::peft
