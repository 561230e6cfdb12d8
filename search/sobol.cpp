#include "search/sobol.h"

#include <boost/random/sobol.hpp>
#include <stdexcept>

namespace autopeft::search {

namespace {
std::uint32_t reverse_bits(std::uint32_t x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
  return (x >> 16) | (x << 16);
}

// Laine & Karras' permutation: each bit flips depending only on the bits below it, so on the
// reversed coordinate it flips bit k by a hash of the more significant bits (a nested scramble).
std::uint32_t laine_karras(std::uint32_t x, std::uint32_t seed) {
  x += seed;
  x ^= x * 0x6c50b47cu;
  x ^= x * 0xb82f1e52u;
  x ^= x * 0xc7afe638u;
  x ^= x * 0x8d22f6e6u;
  return x;
}

std::uint32_t mix(std::uint64_t z) {  // splitmix64's finaliser, for per-dimension seeds
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
}
}  // namespace

std::uint32_t owen_scramble(std::uint32_t x, std::uint32_t seed) {
  return reverse_bits(laine_karras(reverse_bits(x), seed));
}

ScrambledSobol::ScrambledSobol(int dims, std::uint64_t seed) : dims_(dims), seed_(seed) {
  if (dims < 1 || dims > BOOST_RANDOM_SOBOL_MAX_DIMENSION)
    throw std::invalid_argument("ScrambledSobol: dimensions must be in [1, 3667]");
}

Eigen::VectorXd ScrambledSobol::point(std::uint64_t index) const {
  Eigen::VectorXd u(dims_);
  boost::random::sobol engine(static_cast<std::size_t>(dims_));
  if (index > 0) engine.seed(index - 1);  // Boost starts after the origin
  for (int k = 0; k < dims_; ++k) {
    const auto raw = index == 0 ? std::uint32_t{0} : static_cast<std::uint32_t>(engine() >> 32);
    const auto s = owen_scramble(raw, mix(seed_ * 0x100000001b3ull + static_cast<std::uint64_t>(k)));
    u[k] = (static_cast<double>(s) + 0.5) / 4294967296.0;  // the cell's centre: never 0 or 1
  }
  return u;
}

}  // namespace autopeft::search
