#pragma once
// Scrambled Sobol points in [0, 1)^d for the initial design: Boost's Sobol sequence (Joe & Kuo
// direction numbers, up to 3,667 dimensions), with its first point the origin as in the usual
// definition, each coordinate Owen-scrambled by Burley's hash-based nested uniform scramble
// ("Practical Hash-based Owen Scrambling", JCGT 2020) with its own seed. A seed gives one
// randomised design; any first 2^k points stay balanced (one point per dyadic interval of each
// coordinate). Point i is computed directly, so a stateless controller can ask for "point N".
#include <Eigen/Core>

#include <cstdint>

namespace autopeft::search {

class ScrambledSobol {
 public:
  ScrambledSobol(int dims, std::uint64_t seed);
  int dims() const { return dims_; }
  Eigen::VectorXd point(std::uint64_t index) const;

 private:
  int dims_;
  std::uint64_t seed_;
};

// Owen scrambling of a 32-bit fixed-point coordinate (bit 31 the most significant).
std::uint32_t owen_scramble(std::uint32_t x, std::uint32_t seed);

}  // namespace autopeft::search
