#include "studies/study_loop.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include <chrono>
#include <cmath>
#include <ctime>

#include "core/errors.h"
#include "core/logging.h"
#include "search/bo.h"
#include "studies/controller.h"
#include "studies/study_spec.h"

namespace autopeft::studies {

namespace {

class StorageReporter : public TrialReporter {
 public:
  StorageReporter(Storage& storage, const StudyRecord& study, const TrialRecord& trial,
                  const LoopOptions& options)
      : storage_(storage), study_(study), trial_(trial), options_(options) {}

  void report(long step, double value) override {
    storage_.report(trial_.id, step, value);
    curve_.emplace_back(step, value);
    if (options_.pruner.type == "none") return;
    std::vector<Curve> others;
    std::int64_t finished = 0;
    for (const auto& t : storage_.trials(study_.id)) {
      if (t.id == trial_.id) continue;
      // Median (as Optuna): the complete trials; ASHA: every trial that reached a rung.
      const bool use = options_.pruner.type == "median"
                           ? t.state == TrialState::complete
                           : t.state != TrialState::failed && t.state != TrialState::waiting;
      finished += t.state == TrialState::complete;
      if (use) others.push_back(storage_.intermediate_values(t.id));
    }
    prune_ = studies::should_prune(options_.pruner, curve_, others, finished);
  }
  bool should_prune() override { return prune_; }
  void heartbeat() override {
    const double now = epoch_seconds();
    if (now - last_ < options_.heartbeat_seconds) return;
    storage_.heartbeat(trial_.id, now);
    last_ = now;
  }

 private:
  Storage& storage_;
  const StudyRecord& study_;
  const TrialRecord& trial_;
  const LoopOptions& options_;
  Curve curve_;
  bool prune_ = false;
  double last_ = 0;
};

// The time the study's finished trials took, summed (a budget in hours counts this, across runs,
// resumes and workers: worker-hours, not wall-clock since some start).
double trial_seconds(const std::vector<TrialRecord>& trials) {
  double total = 0;
  for (const auto& t : trials) {
    if (t.started.empty() || t.finished.empty()) continue;
    std::tm a{}, b{};
    if (strptime(t.started.c_str(), "%Y-%m-%dT%H:%M:%S", &a) &&
        strptime(t.finished.c_str(), "%Y-%m-%dT%H:%M:%S", &b))
      total += std::difftime(timegm(&b), timegm(&a));
  }
  return total;
}

}  // namespace

std::int64_t requeue_stale(Storage& storage, const StudyRecord& study, const std::vector<TrialRecord>& stale,
                           int retries) {
  const auto trials = storage.trials(study.id);
  const auto is_stale = [](const TrialRecord& t) {
    return t.state == TrialState::failed && t.reason.rfind("stale", 0) == 0;
  };
  std::int64_t n = 0;
  for (const auto& s : trials) {
    // The configurations of `stale`, and of any stale trial that nothing ran again since: a
    // process that died between failing it and enqueueing it again lost the enqueue.
    if (!is_stale(s)) continue;
    bool again = false, listed = false;
    for (const auto& t : trials) again |= t.number > s.number && t.params == s.params;
    if (again) continue;
    for (const auto& l : stale) listed |= l.id == s.id;
    int failures = 0;
    for (const auto& t : trials) failures += is_stale(t) && t.params == s.params;
    if (failures > retries) {
      if (listed)
        log::warn("trial {}: its configuration failed as stale {} times; not enqueued again", s.number,
                  failures);
      continue;
    }
    // Atomic: no second copy when another worker enqueued it meanwhile.
    const auto number = storage.enqueue_again(study.id, s.params, s.number);
    if (!number) continue;
    log::info("trial {} was left running by a dead worker; its configuration runs again as trial {}",
              s.number, *number);
    ++n;
  }
  return n;
}

bool worker_alive(const std::string& worker) {
  const auto colon = worker.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= worker.size()) return false;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || worker.substr(0, colon) != host) return false;
  const std::string pid_text = worker.substr(colon + 1);
  if (pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9) return false;
  const auto pid = static_cast<pid_t>(std::stol(pid_text));
  if (pid <= 0 || pid == getpid()) return false;
  return kill(pid, 0) == 0 || errno == EPERM;
}

LoopReport run_study(Storage& storage, const StudyRecord& study, TrialRunner& runner,
                     const LoopOptions& options) {
  const auto spec = StudySpec::from_definition(study.definition);
  LoopReport report;
  if (options.resume) {
    // RUNNING trials left by a dead process fail at once, without the grace period. A worker of
    // this host ("host:pid") whose process is alive keeps its trial (`study resume` beside live
    // `autopeft worker`s); any other worker counts as dead, as a resume after a crash asserts.
    std::vector<TrialRecord> stale;
    for (auto t : storage.trials(study.id)) {
      if (t.state != TrialState::running || worker_alive(t.worker)) continue;
      try {
        storage.finish_trial(t.id, TrialState::failed, {}, "stale");
      } catch (const std::logic_error&) {  // it finished meanwhile
        continue;
      }
      t.state = TrialState::failed;
      t.reason = "stale";
      stale.push_back(std::move(t));
    }
    report.requeued += requeue_stale(storage, study, stale, options.retries);
  }
  int failures_in_a_row = 0;
  for (;;) {
    if (failures_in_a_row >= options.max_consecutive_failures) {
      report.stopped_because = "failures";
      break;
    }
    const auto trials = storage.trials(study.id);
    if (spec.budget_trials && counted_trials(trials) >= *spec.budget_trials) {
      report.stopped_because = "budget";
      break;
    }
    if (options.until && counted_trials(trials) >= *options.until) {
      report.stopped_because = "trials";
      break;
    }
    if (spec.budget_hours && trial_seconds(trials) >= *spec.budget_hours * 3600) {
      report.stopped_because = "hours";
      break;
    }
    if (options.stop && options.stop->load()) {
      report.stopped_because = "interrupted";
      break;
    }
    const auto stale = storage.fail_stale(study.id, options.grace_seconds, epoch_seconds());
    report.requeued += requeue_stale(storage, study, stale, options.retries);

    TrialRecord trial;
    try {
      trial = ask(storage, study, options.worker);
    } catch (const search::SpaceExhausted&) {
      report.stopped_because = "exhausted";  // every configuration ran (or runs elsewhere)
      break;
    }
    TrialRequest request;
    request.number = static_cast<int>(trial.number);
    request.params = trial.params;
    request.study = study.definition;
    request.seed = study.seed;
    StorageReporter reporter(storage, study, trial, options);
    TrialOutcome outcome;
    try {
      outcome = runner.run(request, reporter);
    } catch (const UserError& e) {
      // A configuration the runner cannot build is this trial's failure, not the study's.
      outcome.state = TrialState::failed;
      outcome.reason = e.what();
    }
    std::vector<double> values;
    if (outcome.state == TrialState::complete) {
      for (const auto& o : study.objectives) {
        const auto it = outcome.values.find(o.name);
        if (it == outcome.values.end()) {
          outcome.state = TrialState::failed;
          outcome.reason = "the runner gave no value for objective '" + o.name + "'";
          values.clear();
          break;
        }
        if (!std::isfinite(it->second)) {
          // tell() would refuse it and leave the trial RUNNING; it is this trial's failure.
          outcome.state = TrialState::failed;
          outcome.reason = "the runner gave a non-finite value for objective '" + o.name + "'";
          values.clear();
          break;
        }
        values.push_back(it->second);
      }
    }
    if (!outcome.attributes.is_null())
      storage.set_study_attr(study.id, "trial." + std::to_string(trial.number), outcome.attributes);
    try {
      tell(storage, study, trial.number, outcome.state, values, outcome.reason);
    } catch (const UserError& e) {
      // Another worker failed this trial as stale meanwhile (its heartbeat was late): the
      // recorded state stands, and this worker goes on.
      log::warn("trial {}: its result was not recorded: {}", trial.number, e.what());
      continue;
    }
    if (outcome.state == TrialState::complete) ++report.complete;
    if (outcome.state == TrialState::pruned) ++report.pruned;
    failures_in_a_row = outcome.state == TrialState::failed ? failures_in_a_row + 1 : 0;
    if (outcome.state == TrialState::failed) {
      ++report.failed;
      log::warn("trial {} failed: {}", trial.number, outcome.reason);
    }
    if (options.on_trial) options.on_trial(trial, outcome);
  }
  return report;
}

}  // namespace autopeft::studies
