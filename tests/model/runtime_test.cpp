#include "model/runtime.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "core/errors.h"

namespace autopeft::model {
namespace {

TEST(RuntimeTest, SetThreadsGovernsIntraOpThreads) {
  set_threads(1);
  EXPECT_EQ(intra_op_threads(), 1);
  set_threads(2);
  EXPECT_EQ(intra_op_threads(), 2);
  set_threads(0);  // every core
  EXPECT_GE(intra_op_threads(), 1);
}

TEST(RuntimeTest, DetectsTheLoadedBlas) {
  // LibTorch is linked, so some BLAS is loaded; force its use first.
  auto c = torch::matmul(torch::ones({64, 64}), torch::ones({64, 64}));
  EXPECT_FLOAT_EQ(c[0][0].item<float>(), 64.0f);
  const auto blas = detect_blas();
  // A shared BLAS has a path; a BLAS linked into LibTorch (pip wheels: MKL) says so instead.
  EXPECT_TRUE(!blas.path.empty() || blas.details.find("linked into LibTorch") != std::string::npos)
      << blas.details;
  EXPECT_NE(blas.name, "unknown") << blas.path;
  EXPECT_EQ(blas.is_reference, blas.name == "reference");
  // scripts/setup selects OpenBLAS; a machine set up by it must not run the reference BLAS.
  EXPECT_FALSE(blas.is_reference) << "LibTorch runs on the reference BLAS (" << blas.path
                                  << "): run scripts/setup";
}

TEST(RuntimeTest, ParsesDevices) {
  EXPECT_EQ(parse_device("cpu"), c10::Device(c10::kCPU));
  const auto automatic = parse_device("auto");
  EXPECT_EQ(automatic.is_cuda(), torch::cuda::is_available());
  EXPECT_THROW(parse_device("tpu"), UserError);
  EXPECT_THROW(parse_device("cuda:x"), UserError);
  if (!torch::cuda::is_available()) {
    try {
      parse_device("cuda");
      FAIL();
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("not available"), std::string::npos);
    }
  }
}

TEST(RuntimeGpuTest, CudaDeviceRunsAMatmul) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "CUDA is not available";
  const auto dev = parse_device("cuda:0");
  auto a = torch::randn({128, 128}, torch::TensorOptions().device(dev));
  auto cpu = torch::matmul(a.cpu(), a.cpu());
  EXPECT_TRUE(torch::allclose(torch::matmul(a, a).cpu(), cpu, 1e-3, 1e-3));
}

}  // namespace
}  // namespace autopeft::model
