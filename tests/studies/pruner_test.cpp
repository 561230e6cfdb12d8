#include "studies/pruner.h"

#include <gtest/gtest.h>

#include <string>

#include "core/errors.h"

namespace autopeft::studies {
namespace {

PrunerOptions median_pruner(std::int64_t startup = 0, std::int64_t warmup = 0) {
  PrunerOptions o;
  o.type = "median";
  o.startup_trials = startup;
  o.warmup_steps = warmup;
  return o;
}

PrunerOptions asha(std::int64_t min_steps, double eta) {
  PrunerOptions o;
  o.type = "asha";
  o.min_steps = min_steps;
  o.eta = eta;
  return o;
}

TEST(PrunerTest, NoneNeverPrunes) {
  PrunerOptions o;
  EXPECT_EQ(o.type, "none");
  EXPECT_FALSE(should_prune(o, {{5, -100.0}}, {{{5, 1.0}}, {{5, 2.0}}, {{5, 3.0}}}, 100));
}

TEST(PrunerTest, NothingReportedNeverPrunes) {
  EXPECT_FALSE(should_prune(median_pruner(), {}, {{{1, 1.0}}}, 10));
  EXPECT_FALSE(should_prune(asha(1, 2), {}, {{{1, 1.0}}}, 10));
}

TEST(PrunerTest, MedianOfAnOddCount) {
  // Others at step 2: 0.1, 0.5, 0.9 -> median 0.5.
  const std::vector<Curve> others = {{{1, 0.0}, {2, 0.1}}, {{1, 0.2}, {2, 0.5}}, {{1, 0.3}, {2, 0.9}}};
  EXPECT_TRUE(should_prune(median_pruner(), {{1, 0.2}, {2, 0.49}}, others, 3));
  EXPECT_FALSE(should_prune(median_pruner(), {{1, 0.2}, {2, 0.5}}, others, 3));  // not below: kept
  EXPECT_FALSE(should_prune(median_pruner(), {{1, 0.2}, {2, 0.51}}, others, 3));
  // At step 1 the others are 0.0, 0.2, 0.3 -> median 0.2.
  EXPECT_TRUE(should_prune(median_pruner(), {{1, 0.19}}, others, 3));
  EXPECT_FALSE(should_prune(median_pruner(), {{1, 0.21}}, others, 3));
}

TEST(PrunerTest, MedianOfAnEvenCountIsTheMeanOfTheMiddleTwo) {
  // Others at step 3: 0.2, 0.4, 0.6, 1.0 -> median (0.4 + 0.6) / 2 = 0.5.
  const std::vector<Curve> others = {{{3, 1.0}}, {{3, 0.2}}, {{3, 0.6}}, {{3, 0.4}}};
  EXPECT_TRUE(should_prune(median_pruner(), {{3, 0.49}}, others, 4));
  EXPECT_FALSE(should_prune(median_pruner(), {{3, 0.51}}, others, 4));
  // Two others: 0.2 and 1.0 -> 0.6.
  const std::vector<Curve> two = {{{3, 1.0}}, {{3, 0.2}}};
  EXPECT_TRUE(should_prune(median_pruner(), {{3, 0.59}}, two, 2));
  EXPECT_FALSE(should_prune(median_pruner(), {{3, 0.61}}, two, 2));
}

TEST(PrunerTest, MedianComparesTheBestValueSoFar) {
  // Median at step 2 is 0.5; the trial's latest value is below it but its best is not.
  const std::vector<Curve> others = {{{2, 0.1}}, {{2, 0.5}}, {{2, 0.9}}};
  EXPECT_FALSE(should_prune(median_pruner(), {{1, 0.8}, {2, 0.1}}, others, 3));
}

TEST(PrunerTest, MedianUsesTheOthersLastValueAtOrBeforeTheStep) {
  // At step 4: the first curve's value is the one at step 3 (0.8), the second's at 4 (0.2);
  // the third starts at step 5 and has none, so it does not count: median (0.8 + 0.2) / 2.
  const std::vector<Curve> others = {{{1, 0.1}, {3, 0.8}, {6, 0.0}}, {{2, 0.9}, {4, 0.2}}, {{5, 100.0}}};
  EXPECT_TRUE(should_prune(median_pruner(), {{4, 0.49}}, others, 3));
  EXPECT_FALSE(should_prune(median_pruner(), {{4, 0.51}}, others, 3));
  // No other has a value by step 1: nothing to compare with.
  EXPECT_FALSE(should_prune(median_pruner(), {{1, -5.0}}, {{{2, 0.9}}, {{5, 1.0}}}, 3));
}

TEST(PrunerTest, MedianWaitsForStartupTrials) {
  const std::vector<Curve> others = {{{1, 0.5}}, {{1, 0.6}}, {{1, 0.7}}};
  const Curve weak = {{1, 0.0}};
  EXPECT_FALSE(should_prune(median_pruner(3), weak, others, 2));
  EXPECT_TRUE(should_prune(median_pruner(3), weak, others, 3));
  EXPECT_TRUE(should_prune(median_pruner(3), weak, others, 4));
}

TEST(PrunerTest, MedianWaitsForWarmupSteps) {
  const std::vector<Curve> others = {{{1, 0.5}, {5, 0.6}, {9, 0.7}}, {{1, 0.5}, {5, 0.6}, {9, 0.7}}};
  EXPECT_FALSE(should_prune(median_pruner(0, 5), {{1, 0.0}}, others, 2));
  EXPECT_FALSE(should_prune(median_pruner(0, 5), {{1, 0.0}, {4, 0.0}}, others, 2));
  EXPECT_TRUE(should_prune(median_pruner(0, 5), {{1, 0.0}, {5, 0.0}}, others, 2));  // step == warmup
  EXPECT_TRUE(should_prune(median_pruner(0, 5), {{1, 0.0}, {9, 0.0}}, others, 2));
}

TEST(PrunerTest, AshaHasNoRungBeforeMinSteps) {
  // Rungs at 2, 6, 18 (min_steps 2, eta 3).
  EXPECT_FALSE(should_prune(asha(2, 3), {{1, 0.0}}, {{{1, 1.0}, {2, 1.0}}}, 5));
}

TEST(PrunerTest, AshaKeepsTheTopOneOverEtaAtTheHighestRungReached) {
  // min_steps 1, eta 2: rungs at steps 1, 2, 4, 8. A trial at step 5 is judged at rung 4.
  // Values at step 4 of the others: 0.9, 0.6, 0.3 (the last curve stops at 3, before the rung).
  const std::vector<Curve> others = {
      {{1, 0.1}, {4, 0.9}, {8, 0.95}}, {{2, 0.6}, {5, 0.7}}, {{4, 0.3}}, {{1, 2.0}, {3, 2.0}}};
  // With the trial's 0.65 the rung holds 0.9, 0.65, 0.6, 0.3: the top 4 / 2 = 2 go on.
  EXPECT_FALSE(should_prune(asha(1, 2), {{4, 0.65}, {5, 0.0}}, others, 4));
  // 0.5: the top two are 0.9 and 0.6.
  EXPECT_TRUE(should_prune(asha(1, 2), {{4, 0.5}, {5, 1.0}}, others, 4));
  // The value at the rung is the last one at or before it (step 3 here: 0.61 -> kept).
  EXPECT_FALSE(should_prune(asha(1, 2), {{3, 0.61}, {5, 0.0}}, others, 4));
  EXPECT_TRUE(should_prune(asha(1, 2), {{3, 0.59}, {5, 1.0}}, others, 4));
}

TEST(PrunerTest, AshaRungsGrowGeometrically) {
  // min_steps 2, eta 3: rungs at 2, 6, 18. At step 17 the rung is 6.
  const std::vector<Curve> others = {{{2, 0.1}, {6, 0.9}, {17, 0.0}}, {{2, 0.9}, {6, 0.2}, {17, 0.0}}};
  // Rung 6 holds 0.9, 0.2 and the trial's value: keep floor(3 / 3) = 1.
  EXPECT_TRUE(should_prune(asha(2, 3), {{2, 1.0}, {6, 0.5}, {17, 1.0}}, others, 2));
  EXPECT_FALSE(should_prune(asha(2, 3), {{2, 0.0}, {6, 0.95}, {17, 0.0}}, others, 2));
  // At step 5 the rung is 2, where the trial's 0.5 is beaten by 0.9 only: keep 1 -> pruned;
  // 0.95 leads -> kept.
  EXPECT_TRUE(should_prune(asha(2, 3), {{2, 0.5}, {5, 1.0}}, others, 2));
  EXPECT_FALSE(should_prune(asha(2, 3), {{2, 0.95}, {5, 0.0}}, others, 2));
  // At step 18 (rung 18) nobody else got there: the trial alone is the top.
  EXPECT_FALSE(should_prune(asha(2, 3), {{2, 0.0}, {6, 0.0}, {18, 0.0}}, others, 2));
}

TEST(PrunerTest, AshaKeepsAtLeastOne) {
  // Two at the rung with eta 3: floor(2 / 3) = 0, still one goes on (the better).
  const std::vector<Curve> others = {{{1, 0.7}}};
  EXPECT_TRUE(should_prune(asha(1, 3), {{1, 0.6}}, others, 1));
  EXPECT_FALSE(should_prune(asha(1, 3), {{1, 0.8}}, others, 1));
  EXPECT_FALSE(should_prune(asha(1, 3), {{1, 0.6}}, {}, 0));
}

TEST(PrunerTest, AshaIgnoresOthersWithoutAValueAtTheRung) {
  // Rungs at 2, 6 (min_steps 2, eta 3). The first two others reported only after step 6: they
  // have no value at rung 6 and must not count (nor break the ordering). Rung 6 then holds
  // 0.8, 0.7 and the trial's 0.75: keep 1 -> pruned.
  const std::vector<Curve> others = {{{10, 0.9}}, {{8, 0.99}}, {{1, 0.2}, {6, 0.8}}, {{6, 0.7}}};
  EXPECT_TRUE(should_prune(asha(2, 3), {{6, 0.75}}, others, 4));
  EXPECT_FALSE(should_prune(asha(2, 3), {{6, 0.85}}, others, 4));
  // A trial whose first value comes after the rung has no rung value either: never pruned there.
  EXPECT_FALSE(should_prune(asha(2, 3), {{10, 0.0}}, {{{6, 0.9}}, {{6, 0.8}}}, 2));
}

TEST(PrunerTest, OptionsFromJson) {
  const auto d = PrunerOptions::from_json(nullptr, "pruner");
  EXPECT_EQ(d.type, "none");
  EXPECT_EQ(d.startup_trials, 5);
  const auto o = PrunerOptions::from_json(
      {{"type", "asha"}, {"min_steps", 100}, {"eta", 4}, {"startup_trials", 2}, {"warmup_steps", 10}},
      "pruner");
  EXPECT_EQ(o.type, "asha");
  EXPECT_EQ(o.min_steps, 100);
  EXPECT_EQ(o.eta, 4.0);
  EXPECT_EQ(o.startup_trials, 2);
  EXPECT_EQ(o.warmup_steps, 10);
  const auto back = PrunerOptions::from_json(o.to_json(), "pruner");
  EXPECT_EQ(back.to_json(), o.to_json());
}

void expect_error(const nlohmann::json& j, const std::string& part) {
  try {
    PrunerOptions::from_json(j, "pruner");
    ADD_FAILURE() << "no error for " << j.dump();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(PrunerTest, OptionsErrorsNameTheKey) {
  expect_error({{"type", "hyperband"}}, "pruner.type");
  expect_error({{"type", "hyperband"}}, "'hyperband'");
  expect_error({{"type", "asha"}, {"min_steps", 0}}, "pruner.min_steps");
  expect_error({{"type", "asha"}, {"eta", 1}}, "pruner.eta");
  expect_error({{"type", "asha"}, {"eta", 0.5}}, "pruner.eta");
  expect_error({{"type", "median"}, {"startup_trial", 3}}, "startup_trial");  // unknown key
  expect_error({{"type", "median"}, {"warmup_steps", 2.5}}, "warmup_steps");  // not an integer
  expect_error({{"type", 3}}, "type");
  expect_error(nlohmann::json::array({1, 2}), "pruner");
}

}  // namespace
}  // namespace autopeft::studies
