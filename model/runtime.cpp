#include "model/runtime.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <dlfcn.h>
#include <link.h>
#include <torch/cuda.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "core/errors.h"

namespace autopeft::model {

namespace {
std::atomic<bool> g_interop_set{false};
}

void set_threads(int n) {
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  // The inter-op pool can be sized only before its first use, and only once.
  bool expected = false;
  if (g_interop_set.compare_exchange_strong(expected, true)) {
    try {
      at::set_num_interop_threads(n);
    } catch (const std::exception&) {
      // Already started by earlier work: keep its size.
    }
  }
}

int intra_op_threads() { return at::get_num_threads(); }
int inter_op_threads() { return at::get_num_interop_threads(); }

namespace {
int collect_blas(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  const std::string name = info->dlpi_name ? info->dlpi_name : "";
  const auto base = std::filesystem::path(name).filename().string();
  if (out->empty() && (base.rfind("libblas.so", 0) == 0 || base.rfind("libopenblas", 0) == 0 ||
                       base.rfind("libblis", 0) == 0 || base.rfind("libmkl_rt", 0) == 0))
    *out = name;
  return 0;
}
}  // namespace

BlasInfo detect_blas() {
  BlasInfo info;
  std::string loaded;
  dl_iterate_phdr(collect_blas, &loaded);
  if (loaded.empty()) {
    // No shared BLAS: a LibTorch with its BLAS linked in (pip wheels carry MKL statically)
    // says which in its build configuration.
    const std::string config = at::show_config();
    const auto at = config.find("BLAS_INFO=");
    if (at == std::string::npos) {
      info.name = "unknown";
      info.details = "no BLAS library is loaded and LibTorch's build configuration names none";
      return info;
    }
    const auto end = config.find_first_of(", \n", at);
    const std::string blas =
        config.substr(at + 10, end == std::string::npos ? std::string::npos : end - at - 10);
    info.name = blas == "mkl" ? "MKL" : blas == "open" ? "OpenBLAS" : blas;
    info.details = "linked into LibTorch (BLAS_INFO=" + blas + ")";
    return info;
  }
  std::error_code ec;
  const auto resolved = std::filesystem::canonical(loaded, ec);
  info.path = ec ? loaded : resolved.string();
  const std::string& p = info.path;
  // OpenBLAS says what it is; the others are told apart by their Debian paths.
  using config_fn = char* (*)();
  if (auto* cfg = reinterpret_cast<config_fn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    info.name = "OpenBLAS";
    info.details = cfg();
    using corename_fn = char* (*)();
    if (auto* core = reinterpret_cast<corename_fn>(dlsym(RTLD_DEFAULT, "openblas_get_corename")))
      info.details += std::string(" (kernel ") + core() + ")";
  } else if (p.find("openblas") != std::string::npos) {
    info.name = "OpenBLAS";
  } else if (p.find("blis") != std::string::npos) {
    info.name = "BLIS";
  } else if (p.find("atlas") != std::string::npos) {
    info.name = "ATLAS";
  } else if (p.find("mkl") != std::string::npos) {
    info.name = "MKL";
  } else if (p.find("/blas/") != std::string::npos) {
    info.name = "reference";
    info.is_reference = true;
    info.details =
        "Debian's reference BLAS: 20-40x slower; run scripts/setup or "
        "update-alternatives --config libblas.so.3-<arch> to pick OpenBLAS";
  } else {
    info.name = "unknown";
  }
  return info;
}

c10::Device parse_device(const std::string& name) {
  if (name == "auto")
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (name.size() > 5) {
      try {
        size_t used = 0;
        index = std::stoi(name.substr(5), &used);
        if (used != name.size() - 5 || index < 0) throw std::invalid_argument(name);
      } catch (const std::exception&) {
        throw_user_error("--device", "bad CUDA device '" + name + "' (expected cuda or cuda:N)");
      }
    }
    if (!torch::cuda::is_available())
      throw_user_error("--device",
                       "'" + name + "' asked for, but CUDA is not available in this build or machine");
    const auto count = static_cast<int>(torch::cuda::device_count());
    if (index >= count)
      throw_user_error("--device", "'" + name + "' asked for, but this machine has " + std::to_string(count) +
                                       " CUDA device(s)");
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw_user_error("--device", "unknown device '" + name + "' (expected cpu, cuda, cuda:N or auto)");
}

}  // namespace autopeft::model
