#pragma once
// Seeds that make a CPU trial bit-reproducible.
#include <cstdint>

namespace autopeft::trainer {

// Seeds LibTorch's default generators (CPU, and CUDA when present) from `seed`.
void seed_everything(std::uint64_t seed);

// A per-purpose seed derived from a base seed and a stream number (SplitMix64), so that
// e.g. the data order of trial 3 does not depend on how many numbers its init drew.
std::uint64_t derive_seed(std::uint64_t base, std::uint64_t stream);

}  // namespace autopeft::trainer
