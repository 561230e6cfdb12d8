#pragma once
// The process's compute environment: threads, BLAS, devices.
#include <c10/core/Device.h>

#include <string>

namespace autopeft::model {

// Sets LibTorch's intra-op threads (which, with the OpenMP OpenBLAS, also govern BLAS) and, once
// per process, its inter-op threads. n <= 0 means every core. Torch starts with 1 thread on a
// 2-core machine (it halves the core count), so this is always called at start.
void set_threads(int n);
int intra_op_threads();
int inter_op_threads();

// Which BLAS library LibTorch's calls go to.
struct BlasInfo {
  std::string path;           // the loaded libblas.so.3 (or other BLAS), symlinks resolved; empty if none
  std::string name;           // "OpenBLAS", "BLIS", "ATLAS", "MKL", "reference", or "unknown"
  std::string details;        // e.g. openblas_get_config(): version, kernel, threading
  bool is_reference = false;  // Debian's reference BLAS: 20-40x slower training
};
BlasInfo detect_blas();

// Parses "cpu", "cuda", "cuda:N" or "auto" (CUDA when available, else CPU). Throws UserError
// for another string or a CUDA device this build or machine lacks.
c10::Device parse_device(const std::string& name);

}  // namespace autopeft::model
