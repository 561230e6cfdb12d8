#pragma once
// The trial runner of trainer studies: a proposed point becomes a PeftConfig (the study's space),
// is trained with the study's fidelity options, and reports the task metric (best evaluation on
// the held-out split), params_percent, trainable and stored. Intermediate values go to the
// study (learning curves, pruning); every step beats the trial's heartbeat. The task (splits,
// tokenizer, features) is prepared once per study and reused by every trial.
#include <memory>
#include <string>

#include "studies/peft_problem.h"
#include "studies/trial_runner.h"
#include "trainer/progress.h"
#include "trainer/training_run.h"

namespace autopeft::trainer {

class StudyTrialRunner : public studies::TrialRunner {
 public:
  StudyTrialRunner(ProgressMode progress = ProgressMode::automatic,
                   c10::Device device = c10::Device(c10::kCPU));
  studies::TrialOutcome run(const studies::TrialRequest& request, studies::TrialReporter& reporter) override;

 private:
  ProgressMode progress_;
  c10::Device device_;
  std::string key_;  // the study definition the caches below belong to
  std::unique_ptr<studies::PeftProblem> problem_;
  std::unique_ptr<PreparedTask> prepared_;
  std::unique_ptr<ActivationCache> cache_;  // shared by the trials of the study
};

// A trial's training seed: from the study seed and the configuration (FNV-1a of its JSON), so a
// configuration run again after a crash trains exactly as it would have.
std::uint64_t trial_seed(std::uint64_t study_seed, const nlohmann::json& params);

}  // namespace autopeft::trainer
