#pragma once
// Pruners decide from a running trial's intermediate values (the task metric, larger is better)
// and those of the finished trials whether to stop it early.
//   none     never prunes
//   median   Optuna's MedianPruner: after `startup_trials` finished trials and `warmup_steps`
//            steps, prune when the trial's best value so far is below the median of the other
//            trials' values at the same step (their last value at or before it)
//   asha     asynchronous successive halving: rungs at min_steps * eta^k; at a rung, a trial goes
//            on only when its value is in the top 1/eta of the values recorded at that rung
// Multi-objective studies prune on the task metric alone (Optuna cannot prune those).
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace autopeft::studies {

using Curve = std::vector<std::pair<std::int64_t, double>>;  // (step, value), steps increasing

struct PrunerOptions {
  std::string type = "none";        // none, median, asha
  std::int64_t startup_trials = 5;  // median: finished trials before pruning starts
  std::int64_t warmup_steps = 0;    // median: steps before a trial can be pruned
  std::int64_t min_steps = 1;       // asha: first rung
  double eta = 3;                   // asha: reduction factor
  static PrunerOptions from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
};

// `current` is the running trial's curve; `others` the curves of the study's other trials
// (complete, pruned and running ones: ASHA compares with every trial that reached a rung).
bool should_prune(const PrunerOptions& options, const Curve& current, const std::vector<Curve>& others,
                  std::int64_t finished_trials);

}  // namespace autopeft::studies
