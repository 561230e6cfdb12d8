#include "search/bo.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace autopeft::search {
namespace {

const SearchSpace kBox = SearchSpace::from_json(
    nlohmann::json::parse(
        R"([{"name":"a","type":"float","low":-5,"high":10},{"name":"b","type":"float","low":0,"high":15}])"),
    "box");

double branin(const nlohmann::json& p) {
  const double a = p["a"], b = p["b"];
  const double t = b - 5.1 / (4 * M_PI * M_PI) * a * a + 5 / M_PI * a - 6;
  return t * t + 10 * (1 - 1 / (8 * M_PI)) * std::cos(a) + 10;
}

double run(bool bayesian, std::uint64_t seed, int evaluations) {
  std::vector<Observation> history;
  BoState state;
  BoOptions o;
  o.budget = evaluations;
  if (!bayesian) o.initial_design = evaluations;  // random search
  double best = 1e300;
  for (int i = 0; i < evaluations; ++i) {
    const auto p = propose(kBox, history, {}, seed * 1000 + static_cast<std::uint64_t>(i), o, state);
    const double f = branin(p);
    best = std::min(best, f);
    history.push_back({p, {-f}});  // maximise -branin
  }
  return best;
}

TEST(BayesOptSlowTest, BeatsRandomSearchOnBranin) {
  double bo = 0, random = 0;
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    bo += run(true, seed, 30);
    random += run(false, seed, 30);
  }
  bo /= 3;
  random /= 3;
  // Branin's minimum is 0.398; 30 evaluations of the GP get close, random search does not.
  EXPECT_LT(bo, 0.8) << "random " << random;
  EXPECT_LT(bo, random);
}

TEST(BayesOptTest, PendingPointsGetDifferentProposalsAndNothingRepeats) {
  std::vector<Observation> history;
  std::mt19937_64 rng(0);
  for (int i = 0; i < 8; ++i) {
    const auto p = kBox.sample(rng);
    history.push_back({p, {-branin(p), -std::abs(p["a"].get<double>())}});  // two objectives: ParEGO
  }
  BoState state;
  const auto first = propose(kBox, history, {}, 42, {}, state);
  EXPECT_TRUE(state.gp_params.contains("parego"));
  const auto second = propose(kBox, history, {first}, 42, {}, state);
  EXPECT_NE(first.dump(), second.dump());
  kBox.validate(first, "first");
  kBox.validate(second, "second");
  // Reproducible from the seed and the history.
  BoState fresh;
  EXPECT_EQ(propose(kBox, history, {}, 42, {}, fresh).dump(), first.dump());
}

}  // namespace
}  // namespace autopeft::search
