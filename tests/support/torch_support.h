#pragma once
// Torch test helpers: a fixed-seed fixture and a tensor-closeness assertion.
#include <gtest/gtest.h>
#include <torch/types.h>

#include "tests/support/test_support.h"

namespace autopeft::testing {

// Seeds LibTorch's generators with 0 before every test.
class TorchSeededTest : public ::testing::Test {
 protected:
  TorchSeededTest();
};

// Passes when a and b have the same shape and max |a - b| <= atol + rtol * |b| elementwise;
// the failure message gives the shapes, the largest difference and where it is.
::testing::AssertionResult tensors_near(const torch::Tensor& a, const torch::Tensor& b, double atol,
                                        double rtol = 0.0);

}  // namespace autopeft::testing

#define EXPECT_TENSOR_NEAR(a, b, atol) EXPECT_TRUE(::autopeft::testing::tensors_near((a), (b), (atol)))
#define ASSERT_TENSOR_NEAR(a, b, atol) ASSERT_TRUE(::autopeft::testing::tensors_near((a), (b), (atol)))
