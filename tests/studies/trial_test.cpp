#include "studies/trial.h"

#include <gtest/gtest.h>

#include "core/errors.h"
#include "studies/trial_runner.h"

namespace autopeft::studies {
namespace {

TEST(TrialStateTest, NamesRoundTripAndFinishedStates) {
  const TrialState all[] = {TrialState::waiting, TrialState::running, TrialState::complete,
                            TrialState::pruned, TrialState::failed};
  for (auto s : all) EXPECT_EQ(parse_state(state_name(s)), s);
  EXPECT_FALSE(is_finished(TrialState::waiting));
  EXPECT_FALSE(is_finished(TrialState::running));
  EXPECT_TRUE(is_finished(TrialState::complete));
  EXPECT_TRUE(is_finished(TrialState::pruned));
  EXPECT_TRUE(is_finished(TrialState::failed));
  EXPECT_THROW(parse_state("done"), UserError);
}

// A runner and a reporter written against the interface, as tests and trainer/ will.
class QuadraticRunner : public TrialRunner {
 public:
  TrialOutcome run(const TrialRequest& request, TrialReporter& reporter) override {
    const double x = request.params.at("x").get<double>();
    for (int step = 1; step <= 3; ++step) {
      reporter.heartbeat();
      reporter.report(step, -x * x * step);
      if (reporter.should_prune())
        return {TrialState::pruned, {}, "pruned at step " + std::to_string(step), {}};
    }
    return {TrialState::complete, {{"f", x * x}}, "", {}};
  }
};

class CountingReporter : public TrialReporter {
 public:
  void report(long step, double value) override { curve.emplace_back(step, value); }
  bool should_prune() override { return prune_after > 0 && static_cast<int>(curve.size()) >= prune_after; }
  void heartbeat() override { ++beats; }
  std::vector<std::pair<long, double>> curve;
  int beats = 0;
  int prune_after = 0;
};

TEST(TrialRunnerTest, TheInterfaceCarriesValuesCurvesAndPruning) {
  QuadraticRunner runner;
  CountingReporter reporter;
  TrialRequest request;
  request.params = {{"x", 3.0}};
  auto outcome = runner.run(request, reporter);
  EXPECT_EQ(outcome.state, TrialState::complete);
  EXPECT_DOUBLE_EQ(outcome.values.at("f"), 9.0);
  EXPECT_EQ(reporter.curve.size(), 3u);
  EXPECT_EQ(reporter.beats, 3);

  CountingReporter pruning;
  pruning.prune_after = 2;
  outcome = runner.run(request, pruning);
  EXPECT_EQ(outcome.state, TrialState::pruned);
  EXPECT_EQ(outcome.reason, "pruned at step 2");
}

}  // namespace
}  // namespace autopeft::studies
