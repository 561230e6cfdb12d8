#include "peft/lora_linear.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/errors.h"
#include "tests/support/torch_support.h"

namespace autopeft::peft {
namespace {

class LoraLinearTest : public autopeft::testing::TorchSeededTest {};

TEST_F(LoraLinearTest, ZeroInitialisedBGivesTheBaseOutputExactly) {
  torch::nn::Linear base(torch::nn::LinearOptions(16, 12));
  LoraLinear lora(base, LoraOptions{});
  auto x = torch::randn({3, 5, 16});
  EXPECT_TRUE(torch::equal(lora->forward(x), base->forward(x)));
}

TEST_F(LoraLinearTest, ForwardIsBasePlusScaledLowRankProduct) {
  torch::nn::Linear base(torch::nn::LinearOptions(16, 12));
  LoraOptions o;
  o.r = 4;
  o.alpha = 16;
  LoraLinear lora(base, o);
  {
    torch::NoGradGuard g;
    lora->lora_B.normal_();
  }
  auto x = torch::randn({7, 16});
  // Independent formulation: x W^T + b + (alpha/r) x A^T B^T, element by element through matmul.
  auto expected = torch::mm(x, base->weight.t()) + base->bias +
                  4.0 * torch::mm(torch::mm(x, lora->lora_A.t()), lora->lora_B.t());
  EXPECT_TENSOR_NEAR(lora->forward(x), expected, 1e-5);
  EXPECT_DOUBLE_EQ(lora->scaling(), 4.0);
  o.use_rslora = true;
  EXPECT_DOUBLE_EQ(LoraLinear(torch::nn::Linear(16, 12), o)->scaling(), 8.0);  // 16 / sqrt(4)
}

TEST_F(LoraLinearTest, InitMatchesHfPeft) {
  LoraOptions o;
  o.r = 8;
  LoraLinear lora(torch::nn::Linear(64, 32), o);
  EXPECT_EQ(lora->lora_A.sizes(), (std::vector<int64_t>{8, 64}));
  EXPECT_EQ(lora->lora_B.sizes(), (std::vector<int64_t>{32, 8}));
  EXPECT_EQ(lora->lora_B.abs().max().item<float>(), 0.0f);
  // kaiming_uniform(a=sqrt(5)) on [r, in] is U(-1/sqrt(in), 1/sqrt(in)).
  const float bound = 1.0f / std::sqrt(64.0f);
  EXPECT_LE(lora->lora_A.abs().max().item<float>(), bound);
  EXPECT_GT(lora->lora_A.abs().max().item<float>(), 0.8f * bound);
}

TEST_F(LoraLinearTest, GradientsReachOnlyTheLoraParameters) {
  torch::nn::Linear base(torch::nn::LinearOptions(8, 8));
  LoraLinear lora(base, LoraOptions{});
  lora->forward(torch::randn({4, 8})).pow(2).sum().backward();
  EXPECT_FALSE(base->weight.requires_grad());
  EXPECT_FALSE(base->bias.requires_grad());
  EXPECT_FALSE(base->weight.grad().defined());
  // B is zero, so A's gradient is zero at init but B's is not.
  ASSERT_TRUE(lora->lora_B.grad().defined());
  EXPECT_GT(lora->lora_B.grad().abs().sum().item<float>(), 0.0f);
  ASSERT_TRUE(lora->lora_A.grad().defined());
  int trainable = 0;
  for (const auto& p : lora->parameters())
    if (p.requires_grad()) trainable += static_cast<int>(p.numel());
  EXPECT_EQ(trainable, 8 * 8 + 8 * 8);  // r (in + out) = 8 * 16
}

TEST_F(LoraLinearTest, MergedEqualsUnmergedAndUnmergeRestoresTheWeights) {
  torch::nn::Linear base(torch::nn::LinearOptions(32, 24));
  LoraOptions o;
  o.r = 4;
  o.alpha = 8;
  LoraLinear lora(base, o);
  {
    torch::NoGradGuard g;
    lora->lora_B.normal_();
  }
  const auto original = base->weight.clone();
  auto x = torch::randn({6, 32});
  const auto unmerged = lora->forward(x);
  lora->merge();
  EXPECT_TRUE(lora->merged());
  EXPECT_TENSOR_NEAR(lora->forward(x), unmerged, 1e-5);
  lora->unmerge();
  EXPECT_TENSOR_NEAR(base->weight, original, 1e-6);
  EXPECT_TENSOR_NEAR(lora->forward(x), unmerged, 1e-6);
}

TEST_F(LoraLinearTest, RejectsBadOptionsNamingTheField) {
  LoraOptions o;
  o.r = 0;
  try {
    LoraLinear lora(torch::nn::Linear(4, 4), o);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("lora.r"), std::string::npos);
  }
  o.r = 2;
  o.init = "orthogonal";
  EXPECT_THROW(LoraLinear(torch::nn::Linear(4, 4), o), UserError);
}

class LoraLinearGpuTest : public autopeft::testing::TorchSeededTest {};

TEST_F(LoraLinearGpuTest, CudaForwardMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "CUDA is not available";
  LoraOptions o;
  o.r = 4;
  LoraLinear lora(torch::nn::Linear(32, 24), o);
  {
    torch::NoGradGuard g;
    lora->lora_B.normal_();
  }
  auto x = torch::randn({6, 32});
  const auto cpu = lora->forward(x);
  lora->to(torch::kCUDA);
  EXPECT_TENSOR_NEAR(lora->forward(x.cuda()).cpu(), cpu, 1e-4);
}

}  // namespace
}  // namespace autopeft::peft
