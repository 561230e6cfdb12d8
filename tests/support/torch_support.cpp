#include "tests/support/torch_support.h"

#include <torch/torch.h>

#include <sstream>

namespace autopeft::testing {

TorchSeededTest::TorchSeededTest() { torch::manual_seed(0); }

::testing::AssertionResult tensors_near(const torch::Tensor& a, const torch::Tensor& b, double atol,
                                        double rtol) {
  if (a.sizes() != b.sizes()) {
    std::ostringstream s;
    s << "shapes differ: " << a.sizes() << " vs " << b.sizes();
    return ::testing::AssertionFailure() << s.str();
  }
  if (a.numel() == 0) return ::testing::AssertionSuccess();
  const auto ad = a.detach().to(torch::kCPU, torch::kDouble);
  const auto bd = b.detach().to(torch::kCPU, torch::kDouble);
  const auto diff = (ad - bd).abs();
  const auto excess = diff - (atol + rtol * bd.abs());
  const auto worst = excess.flatten().argmax().item<int64_t>();
  if (excess.flatten()[worst].item<double>() <= 0.0 && !diff.isnan().any().item<bool>())
    return ::testing::AssertionSuccess();
  std::ostringstream s;
  s << "max |a-b| = " << diff.max().item<double>() << " (atol " << atol << ", rtol " << rtol
    << "); worst at flat index " << worst << ": " << ad.flatten()[worst].item<double>() << " vs "
    << bd.flatten()[worst].item<double>();
  if (diff.isnan().any().item<bool>()) s << "; NaN present";
  return ::testing::AssertionFailure() << s.str();
}

}  // namespace autopeft::testing
