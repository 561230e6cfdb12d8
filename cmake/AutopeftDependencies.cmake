# Every third-party package, found once, with the CMake names that work for Debian 12
# (see stack-notes in the shared reference).
find_package(Threads REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
# The GP's dense algebra (search/) goes through the system BLAS (libblas.so.3, which setup points
# at OpenBLAS): Eigen's own kernels, built for baseline x86-64, are 5-10x slower at n = 500.
find_package(BLAS REQUIRED)
find_package(LAPACK REQUIRED)
# Header-only Boost: the Sobol sequence of the initial design (boost/random/sobol.hpp).
find_package(Boost 1.71 REQUIRED)
# A plain find_package(NLopt) finds the C-only config first; the C++ one lives in nlopt_cxx.
find_package(NLopt 2.7 REQUIRED CONFIG
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/cmake/nlopt_cxx NO_DEFAULT_PATH)
find_package(SQLiteCpp REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(fmt REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SPM REQUIRED IMPORTED_TARGET sentencepiece)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)

if(AUTOPEFT_WITH_TORCH)
  # Any LibTorch works: Debian's is found without help; a CUDA one (e.g. inside a pip PyTorch)
  # through CMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)').
  find_package(Torch REQUIRED)
  message(STATUS "autopeft: LibTorch ${Torch_VERSION} from ${Torch_DIR}")
endif()

if(AUTOPEFT_WITH_TORCH OR AUTOPEFT_BUILD_BENCH)
  find_package(CLI11 REQUIRED)  # the command line and the benchmarks
endif()

if(AUTOPEFT_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
