// `autopeft info`: versions of every library, the BLAS in use, threads, CUDA.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <Eigen/Core>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <nlopt.hpp>
#include <thread>

#include "cli/build_info.h"
#include "cli/command.h"
#include "core/logging.h"
#include "core/version.h"
#include "model/runtime.h"
#include "model/spm_library.h"

namespace autopeft::cli {

namespace {

struct InfoOptions {
  bool json = false;    // --json: one JSON line instead of the table
  bool matmul = false;  // --matmul: measure the fp32 matmul rate through LibTorch
};

// GFLOP/s of an n x n fp32 matmul through LibTorch (median of 5 after a warm-up).
double measure_matmul_gflops(int n) {
  torch::NoGradGuard no_grad;
  auto a = torch::randn({n, n});
  auto b = torch::randn({n, n});
  auto c = torch::matmul(a, b);
  std::vector<double> seconds;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    c = torch::matmul(a, b);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return 2.0 * n * static_cast<double>(n) * n / seconds[2] / 1e9;
}

nlohmann::ordered_json gather(const InfoOptions& options) {
  nlohmann::ordered_json j;
  j["autopeft"] = AUTOPEFT_VERSION;
  j["build"] = std::string(AUTOPEFT_BUILD_TYPE) + ", " + AUTOPEFT_COMPILER +
               (std::string(AUTOPEFT_SANITIZE_FLAGS).empty() ? "" : ", sanitize=" AUTOPEFT_SANITIZE_FLAGS);
  j["libtorch"] = TORCH_VERSION;
  j["eigen"] = fmt::format("{}.{}.{}", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION);
  int nmaj = 0, nmin = 0, nbug = 0;
  nlopt::version(nmaj, nmin, nbug);
  j["nlopt"] = fmt::format("{}.{}.{}", nmaj, nmin, nbug);
  j["sqlite"] = SQLite::getLibVersion();
  j["sqlitecpp"] = SQLITECPP_VERSION;
  j["nlohmann_json"] = fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
                                   NLOHMANN_JSON_VERSION_PATCH);
  j["cli11"] = CLI11_VERSION;
  j["fmt"] = fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100);
  try {
    const auto& spm = model::SentencePieceLibrary::instance();
    j["sentencepiece"] =
        std::string(AUTOPEFT_SENTENCEPIECE_VERSION) + " (isolated module " + spm.path() + ")";
  } catch (const std::exception& e) {
    j["sentencepiece"] = std::string("unavailable: ") + e.what();
  }
  const auto blas = model::detect_blas();
  j["blas"] = blas.name;
  j["blas_path"] = blas.path;
  j["blas_details"] = blas.details;
  j["blas_is_reference"] = blas.is_reference;
  j["threads"] = model::intra_op_threads();
  j["interop_threads"] = model::inter_op_threads();
  j["cores"] = std::thread::hardware_concurrency();
  j["cuda_available"] = torch::cuda::is_available();
  j["cuda_devices"] = torch::cuda::device_count();
  j["cudnn_available"] = torch::cuda::cudnn_is_available();
  if (options.matmul) j["matmul_gflops_1024"] = std::round(measure_matmul_gflops(1024) * 10) / 10;
  return j;
}

}  // namespace

void add_info_command(CLI::App& app, CommandRegistry& registry, const GlobalOptions&) {
  auto options = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info",
                                 "Print the versions of LibTorch and the other libraries, the BLAS, "
                                 "threads, and whether CUDA is available");
  cmd->add_flag("--json", options->json, "Print one JSON line instead of a table");
  cmd->add_flag("--matmul", options->matmul,
                "Also measure the fp32 matmul rate (1024x1024) through LibTorch");
  registry.add(cmd, [options]() {
    const auto j = gather(*options);
    if (j["blas_is_reference"].get<bool>())
      log::warn(
          "LibTorch is using the reference BLAS ({}): training is 20-40x slower. Run scripts/setup "
          "(installs libopenblas0-openmp and selects it).",
          j["blas_path"].get<std::string>());
    if (options->json) {
      std::cout << j.dump() << "\n";
      return 0;
    }
    for (const auto& [key, value] : j.items()) {
      if (key == "blas_is_reference") continue;
      const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      if (text.empty()) continue;
      std::cout << fmt::format("{:<18} {}\n", key, text);
    }
    return 0;
  });
}

}  // namespace autopeft::cli
