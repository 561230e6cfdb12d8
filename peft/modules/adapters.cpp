#include "peft/modules/adapters.h"

#include <torch/nn/init.h>
#include <torch/torch.h>

#include <cmath>

#include "model/encoder.h"

namespace autopeft::peft {

namespace {
torch::Tensor act(const std::string& name, const torch::Tensor& x) {
  if (name == "tanh") return torch::tanh(x);
  if (name == "leakyrelu") return torch::leaky_relu(x);
  return model::activation(name, x);  // relu, gelu, gelu_new, swish/silu
}

void init_linear(torch::nn::Linear& l, const std::string& how, bool is_up) {
  torch::NoGradGuard g;
  if (how == "bert") {
    l->weight.normal_(0.0, 0.02);
  } else if (how == "houlsby") {
    // trunc_normal(0, 1e-2, [-2e-2, 2e-2])
    l->weight.normal_(0.0, 1e-2).clamp_(-2e-2, 2e-2);
  } else {  // mam: down kaiming_uniform(a = sqrt 5), up zero
    if (is_up)
      l->weight.zero_();
    else
      torch::nn::init::kaiming_uniform_(l->weight, std::sqrt(5.0));
  }
  l->bias.zero_();
}
}  // namespace

BottleneckImpl::BottleneckImpl(std::int64_t H, const nlohmann::json& o, bool serial)
    : act_(o.at("activation")) {
  const auto m = o.at("size").get<std::int64_t>();
  const std::string init = o.at("init");
  if (serial && o.at("ln_before").get<bool>())
    ln_before = register_module("ln_before", torch::nn::LayerNorm(torch::nn::LayerNormOptions({H})));
  down = register_module("down", torch::nn::Linear(H, m));
  up = register_module("up", torch::nn::Linear(m, H));
  init_linear(down, init, false);
  init_linear(up, init, true);
  if (serial && o.at("ln_after").get<bool>())
    ln_after = register_module("ln_after", torch::nn::LayerNorm(torch::nn::LayerNormOptions({H})));
  if (serial && o.at("gate").get<bool>()) {
    gate = register_module("gate", torch::nn::Linear(H, 1));
    torch::NoGradGuard g;
    gate->weight.normal_(0.0, 0.02);
    gate->bias.zero_();
  }
  if (o.at("scaling").is_string())
    scaling = register_parameter("scaling", torch::ones({1}));
  else
    fixed_scaling_ = o.at("scaling").get<double>();
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto in = ln_before.is_empty() ? x : ln_before->forward(x);
  auto y = up->forward(act(act_, down->forward(in)));
  y = scaling.defined() ? y * scaling : y * fixed_scaling_;
  if (!gate.is_empty()) y = y * torch::sigmoid(gate->forward(x)).mean(1, /*keepdim=*/true);
  if (!ln_after.is_empty()) y = ln_after->forward(y);
  return y;
}

void AdapterHook::set_serial(Bottleneck serial, const std::string& placement) {
  serial_ = register_module("serial", std::move(serial));
  pfeiffer_ = placement == "pfeiffer";
}

void AdapterHook::set_parallel(Bottleneck parallel) {
  parallel_ = register_module("parallel", std::move(parallel));
}

torch::Tensor AdapterHook::forward(const torch::Tensor& h, const torch::Tensor& r, torch::nn::LayerNorm& ln) {
  // Pre-LN decoders hand over no LayerNorm (AdapterHub's LN=None): the same sums, no norms.
  auto norm = [&](const torch::Tensor& t) { return ln.is_empty() ? t : ln->forward(t); };
  auto sum = h + r;
  if (!parallel_.is_empty()) sum = sum + parallel_->forward(r);
  if (!serial_.is_empty()) sum = sum + serial_->forward(pfeiffer_ ? norm(h + r) : h);
  return norm(sum);
}

}  // namespace autopeft::peft
