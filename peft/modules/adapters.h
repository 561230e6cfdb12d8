#pragma once
// Bottleneck adapters with AdapterHub's semantics, installed at a residual injection point
// ("LayerNorm(h + r)" of a post-LN block, h the sublayer output, r its input):
//   serial, Pfeiffer (original_ln_before): out = LN(g * s * A(LN(h + r)) + h + r)
//   serial, Houlsby:                        out = LN(g * s * A(h) + h + r)
//   parallel (He et al.):                   out = LN(h + s * A(r) + r)
//   serial and parallel at one point (AutoPEFT's "sappa", sharing the frozen LN):
//                                           out = LN(s * A_s(LN(h + r)) + s_p * A_p(r) + h + r)
// A(x) = up(act(down(LN_before(x)))) with LN_after(.) on its output when asked; g is the UniPELT
// gate mean_seq(sigmoid(Linear(H, 1)(x))), 1 without one. In pre-LN decoders (GPT-2, Llama) the
// point is the plain residual addition h + r and every LN above is the identity (AdapterHub calls
// bottleneck_layer_forward with LN=None there).
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <nlohmann/json.hpp>
#include <string>

#include "model/injection.h"

namespace autopeft::peft {

// One bottleneck: normalised options of a serial_adapter or parallel_adapter spec.
class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(std::int64_t hidden, const nlohmann::json& options, bool serial);
  // s * g * up(act(down(x))) (without any residual).
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear down{nullptr}, up{nullptr};
  torch::nn::LayerNorm ln_before{nullptr}, ln_after{nullptr};
  torch::nn::Linear gate{nullptr};
  torch::Tensor scaling;  // learned scalar, or undefined

 private:
  std::string act_;
  double fixed_scaling_ = 1.0;
};
TORCH_MODULE(Bottleneck);

// The adapters of one residual point. Either part may be absent.
class AdapterHook : public model::ResidualHook {
 public:
  // placement: "pfeiffer" or "houlsby" (how the serial adapter reads its input).
  void set_serial(Bottleneck serial, const std::string& placement);
  void set_parallel(Bottleneck parallel);
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& r, torch::nn::LayerNorm& ln) override;
  bool empty() const { return serial_.is_empty() && parallel_.is_empty(); }

 private:
  Bottleneck serial_{nullptr}, parallel_{nullptr};
  bool pfeiffer_ = true;
};

}  // namespace autopeft::peft
