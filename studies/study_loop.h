#pragma once
// Running a study: ask, run the trial through a TrialRunner, tell; until the budget is reached
// (trials: complete and pruned ones; hours: the summed durations of the finished trials, so a
// resumed or parallel study counts what it has spent).
// Each pass first fails RUNNING trials whose heartbeat is older than the grace period (their
// worker is dead) and enqueues their configurations again (retry policy), so an interrupted
// configuration runs again. `resume` does that at once for every RUNNING trial whose process is
// dead, without waiting for the grace period (`study resume` after a crash); trials of live
// workers on this host are left to them.
#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "studies/pruner.h"
#include "studies/storage.h"
#include "studies/trial_runner.h"

namespace autopeft::studies {

struct LoopOptions {
  std::optional<std::int64_t> until;  // stop when this many trials count (--trials N: now + N)
  std::string worker = "worker";      // written with each trial
  bool resume = false;                // fail and re-enqueue the RUNNING trials of dead processes first
  double grace_seconds = 120;         // heartbeat age after which a RUNNING trial is stale
  double heartbeat_seconds = 5;       // at most one heartbeat write per this interval
  int retries = 1;                    // re-enqueues of a stale configuration
  int max_consecutive_failures = 10;  // stop when this many trials in a row fail
  PrunerOptions pruner;
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by SIGINT): finish the running trial, then stop
  std::function<void(const TrialRecord&, const TrialOutcome&)> on_trial;  // after each trial
};

struct LoopReport {
  std::int64_t complete = 0, pruned = 0, failed = 0, requeued = 0;
  std::string stopped_because;  // "budget", "trials" (until), "hours", "interrupted", "failures", "exhausted"
                                // (every configuration of a discrete space ran)
};

// Re-enqueues the configurations of trials that became FAILED as stale (up to `retries` times
// per configuration), and of earlier stale trials whose re-enqueue a crash lost; returns how many.
std::int64_t requeue_stale(Storage& storage, const StudyRecord& study, const std::vector<TrialRecord>& stale,
                           int retries);

// Whether the worker id ("host:pid", as the CLI's workers write it) names a live process of
// this host (other than this one); false for other hosts and other forms.
bool worker_alive(const std::string& worker);

LoopReport run_study(Storage& storage, const StudyRecord& study, TrialRunner& runner,
                     const LoopOptions& options);

}  // namespace autopeft::studies
