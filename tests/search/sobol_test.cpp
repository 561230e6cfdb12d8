#include "search/sobol.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "search/bo.h"
#include "search/search_space.h"
#include "tests/support/test_support.h"

namespace autopeft::search {
namespace {

class SobolTest : public autopeft::testing::SeededTest {};

// Owen scrambling is nested: two coordinates that agree in their top k bits still agree in them
// after scrambling (and the map is a bijection of each such interval).
TEST_F(SobolTest, OwenScrambleIsNested) {
  std::uniform_int_distribution<std::uint32_t> u;
  for (int trial = 0; trial < 200; ++trial) {
    const std::uint32_t seed = u(rng), x = u(rng);
    const int k = trial % 32;
    const std::uint32_t mask = k == 0 ? 0u : ~0u << (32 - k);
    const std::uint32_t y = (x & mask) | (u(rng) & ~mask);
    EXPECT_EQ(owen_scramble(x, seed) & mask, owen_scramble(y, seed) & mask) << "k = " << k;
  }
  std::set<std::uint32_t> images;  // a bijection on 8-bit prefixes
  for (std::uint32_t v = 0; v < 256; ++v) images.insert(owen_scramble(v << 24, 12345) >> 24);
  EXPECT_EQ(images.size(), 256u);
}

// The first 2^m points put exactly one point in each of the 2^m equal intervals of every
// coordinate, and dimensions 0 and 1 form a (0, m, 2)-net: one point in each cell of a 4 x 4
// grid for m = 4. Scrambling keeps both; different seeds give different designs.
TEST_F(SobolTest, FirstPowerOfTwoPointsAreBalancedForEverySeed) {
  for (const std::uint64_t seed : {0ull, 1ull, 977ull}) {
    const ScrambledSobol sobol(12, seed);
    std::vector<Eigen::VectorXd> pts;
    for (std::uint64_t i = 0; i < 16; ++i) pts.push_back(sobol.point(i));
    for (int k = 0; k < 12; ++k) {
      std::set<int> cells;
      for (const auto& p : pts) {
        ASSERT_GT(p[k], 0.0);
        ASSERT_LT(p[k], 1.0);
        cells.insert(static_cast<int>(p[k] * 16));
      }
      EXPECT_EQ(cells.size(), 16u) << "seed " << seed << ", coordinate " << k;
    }
    std::set<int> grid;
    for (const auto& p : pts) grid.insert(static_cast<int>(p[0] * 4) * 4 + static_cast<int>(p[1] * 4));
    EXPECT_EQ(grid.size(), 16u) << "seed " << seed;
  }
  EXPECT_NE(ScrambledSobol(3, 1).point(5), ScrambledSobol(3, 2).point(5));
  EXPECT_EQ(ScrambledSobol(3, 7).point(5), ScrambledSobol(3, 7).point(5));
}

TEST_F(SobolTest, FromUnitGivesEveryValueAnEqualShare) {
  const auto space = SearchSpace::from_json(
      nlohmann::json::parse(R"([{"name": "s", "type": "ordinal", "values": [0, 1, 2, 4, 8]},
        {"name": "k", "type": "int", "low": 1, "high": 4}, {"name": "c", "type": "categorical", "choices": ["a", "b"]},
        {"name": "on", "type": "bool"}, {"name": "r", "type": "int", "low": 1, "high": 16, "active_if": {"on": true}}])"),
      "t");
  const std::vector<long long> s = {0, 1, 2, 4, 8};
  for (int i = 0; i < 5; ++i) {
    Eigen::VectorXd q(5);
    q << (i + 0.5) / 5, (i % 4 + 0.5) / 4, 0.2, 0.2, 0.9;
    const auto p = space.from_unit(q);
    EXPECT_EQ(p["s"], s[static_cast<std::size_t>(i)]);
    EXPECT_EQ(p["k"], 1 + i % 4);
    EXPECT_EQ(p["c"], "a");
    EXPECT_FALSE(p.contains("r"));  // inactive: its coordinate is skipped
  }
  Eigen::VectorXd q(5);
  q << 0.0, 0.999999, 0.75, 0.6, 0.999999;
  const auto p = space.from_unit(q);
  EXPECT_EQ(p["s"], 0);
  EXPECT_EQ(p["k"], 4);
  EXPECT_EQ(p["c"], "b");
  EXPECT_EQ(p["r"], 16);
  space.validate(p, "p");
}

// The initial design of propose() is the Sobol design, from the proposal index given.
TEST_F(SobolTest, ProposeTakesTheInitialDesignFromTheSobolSequence) {
  const auto space =
      SearchSpace::from_json(nlohmann::json::parse(R"([{"name": "x", "type": "float", "low": 0, "high": 1},
                                {"name": "y", "type": "float", "low": 0, "high": 1}])"),
                             "t");
  BoOptions o;
  o.design_seed = 42;
  BoState state;
  const ScrambledSobol sobol(2, 42);
  std::vector<Observation> done;
  for (std::int64_t i = 0; i < 4; ++i) {
    o.design_index = i;
    const auto p = propose(space, done, {}, 1000 + static_cast<std::uint64_t>(i), o, state);
    EXPECT_EQ(p, space.from_unit(sobol.point(static_cast<std::uint64_t>(i)))) << i;
    done.push_back({p, {0.0}});
  }
}

// Neighbours move one dimension one step and stay admissible; activity follows the move.
TEST_F(SobolTest, NeighboursMoveOneDimensionOneStep) {
  const auto space = SearchSpace::from_json(
      nlohmann::json::parse(R"([{"name": "s", "type": "ordinal", "values": [0, 1, 2, 4, 8]},
        {"name": "k", "type": "int", "low": 1, "high": 4}, {"name": "c", "type": "categorical", "choices": ["a", "b", "c"]},
        {"name": "x", "type": "float", "low": 0, "high": 1},
        {"name": "on", "type": "bool"}, {"name": "r", "type": "int", "low": 1, "high": 16, "active_if": {"on": true}}])"),
      "t");
  const std::vector<double> s_values = {0, 1, 2, 4, 8};
  for (int trial = 0; trial < 300; ++trial) {
    const auto p = space.sample(rng);
    const auto q = space.neighbour(p, rng);
    space.validate(q, "neighbour");
    int changed = 0;
    for (const auto& [key, value] : p.items())
      if (!q.contains(key) || q[key] != value) ++changed;
    if (p["on"] == q["on"]) {
      EXPECT_EQ(changed, 1) << p.dump() << " -> " << q.dump();
      EXPECT_EQ(q.size(), p.size());
    } else {
      EXPECT_EQ(q.contains("r"), q["on"].get<bool>());  // r appears or goes with its switch
    }
    if (p["s"] != q["s"]) {  // adjacent ordinal values
      const auto a = std::find(s_values.begin(), s_values.end(), p["s"].get<double>());
      const auto b = std::find(s_values.begin(), s_values.end(), q["s"].get<double>());
      EXPECT_EQ(std::abs(a - b), 1);
    }
    if (p["k"] != q["k"]) {
      EXPECT_EQ(std::abs(p["k"].get<int>() - q["k"].get<int>()), 1);
    }
  }
}

}  // namespace
}  // namespace autopeft::search
