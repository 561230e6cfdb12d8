#include "search/bo.h"
#include "search/output_transform.h"
#include "search/pareto.h"

#include <gtest/gtest.h>

#include <iostream>

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

// ZDT1 in 4 dimensions (both objectives minimised); the hypervolume of `n` evaluations (ref 1.1, 11).
double zdt1_hypervolume(const std::string& mode, std::uint64_t seed, int n) {
  const auto space = SearchSpace::from_json(
      nlohmann::json::parse(
          R"([{"name":"x0","type":"float","low":0,"high":1},{"name":"x1","type":"float","low":0,"high":1},
        {"name":"x2","type":"float","low":0,"high":1},{"name":"x3","type":"float","low":0,"high":1}])"),
      "zdt1");
  std::vector<Observation> history;
  BoState state;
  BoOptions options;
  options.budget = n;
  options.multi_objective = mode;
  std::mt19937_64 rng(seed);
  Eigen::MatrixXd f(n, 2);
  for (int i = 0; i < n; ++i) {
    const auto p =
        mode == "random" ? space.sample(rng) : propose(space, history, {}, seed * 1000 + i, options, state);
    const double x0 = p["x0"];
    const double g = 1 + 9 * (p["x1"].get<double>() + p["x2"].get<double>() + p["x3"].get<double>()) / 3;
    f(i, 0) = x0;
    f(i, 1) = g * (1 - std::sqrt(x0 / g));
    history.push_back({p, {-f(i, 0), -f(i, 1)}});
  }
  return hypervolume_2d(f, Eigen::Vector2d(1.1, 11));
}

TEST(BayesOptSlowTest, EhviBeatsRandomSearchOnZdt1) {
  double ehvi = 0, parego = 0, random = 0;
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    ehvi += zdt1_hypervolume("ehvi", seed, 30) / 3;
    parego += zdt1_hypervolume("parego", seed, 30) / 3;
    random += zdt1_hypervolume("random", seed, 30) / 3;
  }
  std::cerr << "ZDT1 (4-D) hypervolume after 30 evaluations, mean of 3 seeds: ehvi " << ehvi << ", parego "
            << parego << ", random " << random << "\n";
  // The true front's hypervolume is 11.767 (1.1 x 11 less the area under 1 - sqrt(x) on [0, 1]).
  EXPECT_GT(ehvi, random) << "ehvi " << ehvi << " random " << random;
  EXPECT_GT(ehvi, 11.5) << "ehvi " << ehvi;
}

TEST(BayesOptTest, PendingPointsGetDifferentProposalsAndNothingRepeats) {
  std::vector<Observation> history;
  std::mt19937_64 rng(0);
  for (int i = 0; i < 8; ++i) {
    const auto p = kBox.sample(rng);
    history.push_back({p, {-branin(p), -std::abs(p["a"].get<double>())}});  // two objectives
  }
  for (const std::string mo : {"ehvi", "parego"}) {
    BoOptions options;
    options.multi_objective = mo;
    BoState state;
    const auto first = propose(kBox, history, {}, 42, options, state);
    if (mo == "ehvi") {
      EXPECT_TRUE(state.gp_params.contains("ehvi.0") && state.gp_params.contains("ehvi.1"));
    } else {
      EXPECT_TRUE(state.gp_params.contains("parego"));
    }
    const auto second = propose(kBox, history, {first}, 42, options, state);
    EXPECT_NE(first.dump(), second.dump()) << mo;
    kBox.validate(first, "first");
    kBox.validate(second, "second");
    // Reproducible from the seed and the history.
    BoState fresh;
    EXPECT_EQ(propose(kBox, history, {}, 42, options, fresh).dump(), first.dump()) << mo;
  }
}

// A given reference point enters EHVI in the GP's standardised scale: giving the point the BO
// would infer (the worst observation less 10 % of the range, per objective) proposes the same;
// a far one (or one coordinate of it) proposes something else.
TEST(BayesOptTest, AGivenReferencePointIsTheInferredOneInTheObjectivesUnits) {
  std::vector<Observation> history;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 12; ++i) {
    const auto p = kBox.sample(rng);
    history.push_back({p, {-branin(p), -std::abs(p["a"].get<double>() - 2.0)}});
  }
  std::vector<double> inferred;
  for (std::size_t k = 0; k < 2; ++k) {
    double lo = 1e300, hi = -1e300;
    for (const auto& o : history) lo = std::min(lo, o.values[k]), hi = std::max(hi, o.values[k]);
    inferred.push_back(lo - 0.1 * (hi - lo));
  }
  BoOptions o;
  BoState s1, s2, s3, s4;
  const auto plain = propose(kBox, history, {}, 7, o, s1);
  o.reference = inferred;
  EXPECT_EQ(propose(kBox, history, {}, 7, o, s2), plain);
  o.reference = {std::nan(""), inferred[1]};  // NaN: that coordinate inferred
  EXPECT_EQ(propose(kBox, history, {}, 7, o, s3), plain);
  o.reference = {inferred[0] - 500.0, inferred[1]};
  EXPECT_NE(propose(kBox, history, {}, 7, o, s4), plain);
}

TEST(OutputTransformTest, CopulaAndStandardizeByHand) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-15);
  Eigen::VectorXd y(4);
  y << 3, 1, 2, 2;
  const OutputTransform copula("copula", y);
  // ECDF: 1 -> 1/4, 2 -> 3/4 (ties share the upper rank), 3 -> 1 (clamped to 0.9999).
  EXPECT_NEAR(copula(1.0), -0.6744897501960817, 1e-12);
  EXPECT_NEAR(copula(2.0), 0.6744897501960817, 1e-12);
  EXPECT_NEAR(copula(3.0), normal_quantile(0.9999), 1e-12);
  EXPECT_NEAR(copula(0.0), normal_quantile(1e-4), 1e-12);  // a reference below every observation
  EXPECT_NEAR(copula(2.5), 0.6744897501960817, 1e-12);
  const OutputTransform standardize("standardize", y);  // mean 2, sample sd sqrt(2/3)
  EXPECT_NEAR(standardize(3.0), 1.0 / std::sqrt(2.0 / 3.0), 1e-12);
  EXPECT_THROW(OutputTransform("log", y), std::invalid_argument);
}

TEST(BayesOptTest, CopulaProposalsAreReproducibleAndAdmissible) {
  std::vector<Observation> history;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 10; ++i) {
    const auto p = kBox.sample(rng);
    history.push_back({p, {-branin(p), -std::abs(p["a"].get<double>())}});
  }
  BoOptions o;
  o.output_transform = "copula";
  o.reference = {-300.0, -10.0};
  BoState a, b;
  const auto first = propose(kBox, history, {}, 11, o, a);
  kBox.validate(first, "copula proposal");
  EXPECT_EQ(propose(kBox, history, {}, 11, o, b), first);
  // The other lengthscale prior: admissible, reproducible, and fitted (its parameters differ).
  BoOptions s = o;
  s.lengthscale_prior = "dimension-scaled";
  BoState c, e;
  const auto saas = propose(kBox, history, {}, 11, s, c);
  kBox.validate(saas, "saas proposal");
  EXPECT_EQ(propose(kBox, history, {}, 11, s, e), saas);
  EXPECT_NE(c.gp_params.dump(), a.gp_params.dump());
}

// Three objectives go to Monte-Carlo EHVI with a GP each; proposals are admissible, new and
// reproducible, and beat random search on a 3-objective problem whose Pareto set is a small
// triangle (squared distances to three close points), which random points rarely hit.
TEST(BayesOptTest, NoisyEhviProposalsAreAdmissibleReproducibleAndAvoidPendingPoints) {
  std::vector<Observation> history;
  std::mt19937_64 rng(9);
  std::normal_distribution<double> noise(0.0, 0.3);
  for (int i = 0; i < 12; ++i) {
    const auto p = kBox.sample(rng);
    history.push_back({p, {-branin(p) / 50 + noise(rng), -std::abs(p["a"].get<double>()) + noise(rng)}});
  }
  BoOptions o;
  o.multi_objective = "nehvi";
  o.mc_samples = 32;
  BoState a, b;
  const auto first = propose(kBox, history, {}, 3, o, a);
  kBox.validate(first, "nehvi proposal");
  EXPECT_EQ(propose(kBox, history, {}, 3, o, b), first);
  BoState c;
  const auto second = propose(kBox, history, {first}, 3, o, c);
  kBox.validate(second, "nehvi proposal with a pending point");
  EXPECT_NE(second, first);
}

TEST(BayesOptTest, ThreeObjectivesUseMonteCarloEhvi) {
  auto objectives = [](const nlohmann::json& p) {
    const double a = (p["a"].get<double>() + 5) / 15, b = p["b"].get<double>() / 15;  // [0, 1]^2
    auto d2 = [&](double x, double y) { return (a - x) * (a - x) + (b - y) * (b - y); };
    return std::vector<double>{-d2(0.45, 0.45), -d2(0.55, 0.45), -d2(0.5, 0.55)};
  };
  auto run = [&](bool bayesian, const std::string& mo = "ehvi") {
    std::vector<Observation> history;
    BoState state;
    BoOptions o;
    o.multi_objective = mo;
    o.budget = 25;
    if (!bayesian) o.initial_design = 25;
    o.mc_samples = 64;
    for (int i = 0; i < 25; ++i) {
      o.design_index = i;
      const auto p = propose(kBox, history, {}, 900 + static_cast<std::uint64_t>(i), o, state);
      kBox.validate(p, "proposal");
      for (const auto& h : history) {
        EXPECT_NE(h.params, p);
      }
      history.push_back({p, objectives(p)});
    }
    if (bayesian && mo == "ehvi") {
      EXPECT_TRUE(state.gp_params.contains("ehvi.2"));
    }
    Eigen::MatrixXd f(25, 3);
    for (int i = 0; i < 25; ++i)
      for (int k = 0; k < 3; ++k)
        f(i, k) = -history[static_cast<std::size_t>(i)].values[static_cast<std::size_t>(k)];
    return hypervolume(f, Eigen::Vector3d(0.05, 0.05, 0.05));  // the region near the Pareto set
  };
  const double bo = run(true), random = run(false), parego = run(true, "parego");
  EXPECT_GT(bo, random) << "BO " << bo << " vs random " << random << " parego " << parego;
  std::cerr << "hypervolume: MC-EHVI " << bo << ", ParEGO " << parego << ", random " << random << "\n";
}

}  // namespace
}  // namespace autopeft::search
