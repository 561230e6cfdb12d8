#include "model/injection.h"

#include <torch/nn/functional/linear.h>
#include <torch/nn/init.h>
#include <torch/torch.h>

#include <cmath>

#include "core/errors.h"

namespace autopeft::model {

std::string_view injection_kind_name(InjectionKind kind) {
  switch (kind) {
    case InjectionKind::linear: return "linear";
    case InjectionKind::residual: return "residual";
    case InjectionKind::attention: return "attention";
    case InjectionKind::block: return "block";
    case InjectionKind::embeddings: return "embeddings";
  }
  return "?";
}

InjectableLinearImpl::InjectableLinearImpl(std::int64_t in, std::int64_t out, bool with_bias)
    : in_features(in), out_features(out) {
  weight = register_parameter("weight", torch::empty({out, in}));
  if (with_bias) bias = register_parameter("bias", torch::empty({out}));
  reset_parameters();
}

void InjectableLinearImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

torch::Tensor InjectableLinearImpl::forward(const torch::Tensor& x) {
  auto base_input = x;
  for (auto& [name, augment] : augments_) base_input = augment->transform_input(base_input);
  auto y = torch::nn::functional::linear(base_input, weight, bias);
  for (auto& [name, a] : augments_) {
    if (a->out_size == 0) {
      y = a->forward(x, y);
      continue;
    }
    const auto end = a->out_offset + a->out_size;
    y = torch::cat({y.narrow(-1, 0, a->out_offset), a->forward(x, y.narrow(-1, a->out_offset, a->out_size)),
                    y.narrow(-1, end, y.size(-1) - end)},
                   -1);
  }
  return y;
}

void InjectableLinearImpl::add_augment(const std::string& name, std::shared_ptr<LinearAugment> augment,
                                       std::int64_t offset, std::int64_t size) {
  for (const auto& [n, a] : augments_)
    if (n == name) throw_user_error(name, "this linear layer already has an augment of that name");
  if (offset < 0 || size < 0 || offset + size > out_features)
    throw std::logic_error("add_augment: rows outside the layer");
  augment->out_offset = offset;
  augment->out_size = size == out_features ? 0 : size;
  register_module(name, augment);
  augments_.emplace_back(name, std::move(augment));
}

void InjectableLinearImpl::remove_augments() {
  for (const auto& [name, a] : augments_) unregister_module(name);
  augments_.clear();
}

LinearSlice PeftHost::linear_slice(const std::string& name) const {
  auto l = linear(name);
  return {l, 0, l->out_features};
}

}  // namespace autopeft::model
