#include "peft/modules/ia3.h"

#include <torch/torch.h>

namespace autopeft::peft {

Ia3Augment::Ia3Augment(std::int64_t features, bool scale_input) : scale_input_(scale_input) {
  ia3_l = register_parameter("ia3_l", torch::ones({features}));
}

torch::Tensor Ia3Augment::transform_input(const torch::Tensor& x) { return scale_input_ ? x * ia3_l : x; }

torch::Tensor Ia3Augment::forward(const torch::Tensor&, const torch::Tensor& y) {
  return scale_input_ ? y : y * ia3_l;
}

}  // namespace autopeft::peft
