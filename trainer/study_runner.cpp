#include "trainer/study_runner.h"

#include <fmt/format.h>

#include "core/errors.h"
#include "studies/study_spec.h"
#include "trainer/seeding.h"

namespace autopeft::trainer {

std::uint64_t trial_seed(std::uint64_t study_seed, const nlohmann::json& params) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : params.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return derive_seed(study_seed, h);
}

StudyTrialRunner::StudyTrialRunner(ProgressMode progress, c10::Device device)
    : progress_(progress), device_(device) {}

studies::TrialOutcome StudyTrialRunner::run(const studies::TrialRequest& request,
                                            studies::TrialReporter& reporter) {
  reporter.heartbeat();
  const auto key = request.study.dump();
  if (key != key_) {
    const auto spec = studies::StudySpec::from_definition(request.study);
    problem_ = std::make_unique<studies::PeftProblem>(spec);
    prepared_ = std::make_unique<PreparedTask>(request.study.at("model").get<std::string>(), problem_->task(),
                                               problem_->fidelity());
    cache_ = std::make_unique<ActivationCache>();
    key_ = key;
  }
  studies::TrialOutcome outcome;
  TrainTarget target;
  target.source = "trial " + std::to_string(request.number);
  try {
    target.config = problem_->config(request.params);
  } catch (const UserError& e) {
    outcome.state = studies::TrialState::failed;
    outcome.reason = std::string("invalid configuration: ") + e.what();
    return outcome;
  }
  auto options = problem_->fidelity();
  options.seed = trial_seed(request.seed, request.params);
  Progress progress(progress_, fmt::format("trial {}", request.number));
  TrainEvents events;
  events.on_step = [&](std::int64_t step, std::int64_t total, double loss) {
    reporter.heartbeat();
    progress.step(step, total, loss);
  };
  events.on_evaluation = [&](const EvalPoint& p) {
    reporter.heartbeat();
    reporter.report(static_cast<long>(p.step), p.metric);
    return !reporter.should_prune();
  };
  RunResult run;
  try {
    run = run_training(*prepared_, target, options, events, device_, cache_.get());
  } catch (const UserError&) {
    throw;  // the study loop records it as this trial's failure
  } catch (const std::exception& e) {
    progress.finish();
    outcome.state = studies::TrialState::failed;
    outcome.reason = std::string("training failed: ") + e.what();
    return outcome;
  }
  progress.finish();
  const auto& r = run.train;
  outcome.attributes = {{"labels", prepared_->vocabulary()},
                        {"seed", options.seed},
                        {"steps", r.steps},
                        {"best_step", r.best_step},
                        {"train_seconds", r.train_seconds},
                        {"eval_seconds", r.eval_seconds},
                        {"train_tokens", r.train_tokens},
                        {"cached_layers", r.cached_layers},
                        {"counts", run.counts.to_json()},
                        {"config", target.config.to_json()}};
  if (r.status == "failed") {
    outcome.state = studies::TrialState::failed;
    outcome.reason = r.reason;
    return outcome;
  }
  if (r.status == "pruned") {
    outcome.state = studies::TrialState::pruned;
    outcome.reason = r.reason;
    return outcome;
  }
  outcome.state = studies::TrialState::complete;
  outcome.values[problem_->task().metric] = r.best_metric;
  outcome.values["params_percent"] = run.counts.params_percent;
  outcome.values["trainable"] = static_cast<double>(run.counts.trainable);
  outcome.values["stored"] = static_cast<double>(run.counts.stored);
  progress.note(fmt::format("{} {:.4f}, params {:.4f} %, {:.1f} s", problem_->task().metric, r.best_metric,
                            run.counts.params_percent, r.train_seconds + r.eval_seconds));
  return outcome;
}

}  // namespace autopeft::trainer
