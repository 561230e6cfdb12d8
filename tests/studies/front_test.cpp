#include "studies/front.h"

#include <gtest/gtest.h>

#include <cmath>

namespace autopeft::studies {
namespace {

TrialRecord trial(std::int64_t number, std::vector<double> values, TrialState state = TrialState::complete) {
  TrialRecord t;
  t.number = number;
  t.state = state;
  t.values = std::move(values);
  return t;
}

StudyRecord study(std::vector<Objective> objectives) {
  StudyRecord s;
  s.objectives = std::move(objectives);
  return s;
}

// accuracy (maximise) against params_percent (minimise), by hand.
TEST(FrontTest, FrontKneeAndHypervolumeFollowTheDirections) {
  const auto s = study({{"accuracy", "maximize"}, {"params_percent", "minimize"}});
  const std::vector<TrialRecord> trials = {
      trial(0, {0.60, 0.1}),  // front (cheapest)
      trial(1, {0.70, 0.5}),  // front: the knee
      trial(2, {0.65, 0.9}),  // dominated by 1
      trial(3, {0.72, 2.0}),  // front (most accurate)
      trial(4, {0.99, 0.0}, TrialState::failed),
      trial(5, {0.5}),  // a value short: ignored
  };
  const auto complete = complete_with_values(trials, s);
  ASSERT_EQ(complete.size(), 4u);
  EXPECT_EQ(front_indices(complete, s), (std::vector<std::size_t>{0, 1, 3}));
  const std::vector<TrialRecord> front = {complete[0], complete[1], complete[3]};
  // Scaled over the front: accuracy (0.72 - acc) / 0.12, params (p - 0.1) / 1.9.
  // Trial 0: 1 + 0 = 1; trial 1: (1/6)^2 + (0.4/1.9)^2 = 0.072; trial 3: 0 + 1 = 1.
  EXPECT_EQ(front[knee_index(front, s).value()].number, 1);
  // Minimised: (-0.60, 0.1), (-0.70, 0.5), (-0.65, 0.9), (-0.72, 2.0); reference (-0.60, 2.0).
  // Boxes along params: [0.5, 2.0) x 0.10 + [0.1, ...) contributes 0 (its accuracy is the
  // reference's) -> 1.5 x 0.10 = 0.15; trial 3 sits on the params reference: 0.
  EXPECT_NEAR(hypervolume_of(complete, s), 0.15, 1e-12);
  const auto trace = hypervolume_trace(complete, s);
  ASSERT_EQ(trace.size(), 4u);
  EXPECT_NEAR(trace[0].second, 0.0, 1e-12);
  EXPECT_NEAR(trace[1].second, 0.15, 1e-12);
  EXPECT_NEAR(trace[3].second, 0.15, 1e-12);
  EXPECT_TRUE(std::isnan(hypervolume_of(complete, study({{"accuracy", "maximize"}}))));
  EXPECT_FALSE(knee_index({}, s).has_value());
}

TEST(FrontTest, HypervolumeOfThreeObjectives) {
  const auto s = study({{"a", "minimize"}, {"b", "minimize"}, {"c", "maximize"}});
  // Minimised: (0,0,-1), (1,1,0), (2,2,-2) -> reference (2,2,0): only (0,0,-1) is strictly
  // inside the box in every objective: 2 x 2 x 1 = 4.
  const std::vector<TrialRecord> trials = {trial(0, {0, 0, 1}), trial(1, {1, 1, 0}), trial(2, {2, 2, 2})};
  EXPECT_NEAR(hypervolume_of(trials, s), 4.0, 1e-12);
}

}  // namespace
}  // namespace autopeft::studies
