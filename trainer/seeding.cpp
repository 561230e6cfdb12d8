#include "trainer/seeding.h"

#include <torch/cuda.h>
#include <torch/utils.h>

namespace autopeft::trainer {

void seed_everything(std::uint64_t seed) {
  // torch::manual_seed seeds the CPU generator and every CUDA device's.
  torch::manual_seed(seed);
}

std::uint64_t derive_seed(std::uint64_t base, std::uint64_t stream) {
  // SplitMix64 finaliser over (base, stream): neighbouring inputs give unrelated outputs.
  std::uint64_t z = base + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace autopeft::trainer
