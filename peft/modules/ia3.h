#pragma once
// IA3 (Liu et al. 2022) as HF PEFT applies it to BERT: learned vectors initialised to 1 that
// scale the outputs of the key and value projections (y * l, l: [out]) and the input of the FFN
// output projection (W (x * l) + b, l: [in]). Parameter name "ia3_l" as in HF PEFT.
#include "model/injection.h"

namespace autopeft::peft {

class Ia3Augment : public model::LinearAugment {
 public:
  // scale_input: scale the linear layer's input (FFN); otherwise its output (k, v).
  Ia3Augment(std::int64_t features, bool scale_input);
  torch::Tensor transform_input(const torch::Tensor& x) override;
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& y) override;
  bool scales_input() const { return scale_input_; }
  torch::Tensor ia3_l;

 private:
  bool scale_input_;
};

}  // namespace autopeft::peft
