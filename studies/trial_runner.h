#pragma once
// The interface between the study controller (torch-free) and whatever evaluates a trial.
// trainer/ implements it with real fine-tuning; tests implement it with synthetic functions.
#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "studies/trial.h"

namespace autopeft::studies {

// What the controller hands to a runner.
struct TrialRequest {
  int number = 0;               // trial number, unique within the study, from 0
  nlohmann::json params;        // the proposed point, by dimension name
  nlohmann::json study;         // the stored study definition (model, task, fidelity, ...)
  unsigned long long seed = 0;  // seed for this trial's randomness
};

// What a runner reports back. `values` is keyed by objective name (e.g. "accuracy",
// "params_percent"); it is read only when state == complete.
struct TrialOutcome {
  TrialState state = TrialState::failed;
  std::map<std::string, double> values;
  std::string reason;         // why a trial failed or was pruned; empty when complete
  nlohmann::json attributes;  // anything worth keeping (label vocabulary, timings, ...)
};

// The runner's channel back to the controller while it works.
class TrialReporter {
 public:
  virtual ~TrialReporter() = default;
  // Records an intermediate value of the task metric at `step` (learning curves, pruning).
  virtual void report(long step, double value) = 0;
  // True when the pruner decided this trial should stop; the runner then returns `pruned`.
  virtual bool should_prune() = 0;
  // Tells the controller the runner is alive (updates the trial's heartbeat).
  virtual void heartbeat() = 0;
};

class TrialRunner {
 public:
  virtual ~TrialRunner() = default;
  // Evaluates one trial. Returns failed (with a reason) for failures that concern the trial
  // (NaN loss, out of memory, an invalid configuration); throws only when the runner itself
  // cannot go on.
  virtual TrialOutcome run(const TrialRequest& request, TrialReporter& reporter) = 0;
};

}  // namespace autopeft::studies
