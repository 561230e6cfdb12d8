#pragma once
// The training and evaluation examples of a trial, from a task's splits and the fidelity
// options: the first max_train training examples (transformers' max_train_samples); with
// eval_on = "holdout", a held-out part of them (holdout_fraction, at most holdout_max) is the
// evaluation set, chosen by a fixed seeded permutation so that every trial of a study (and every
// study on the same data) uses the same split; then the first train_fraction of the rest; the
// evaluation set is cut to max_eval. With eval_on = "dev" the task's dev split is evaluated.
// Torch-free.
#include <string>

#include "trainer/data/task.h"
#include "trainer/data/train_options.h"

namespace autopeft::trainer {

struct TrialSplits {
  Dataset train;
  Dataset eval;
  std::string eval_name;  // "holdout" or "dev"
  Dataset test;           // with test_on = "dev": the task's dev split, whole (max_eval does not cut it)
};

TrialSplits make_splits(const TaskSpec& task, const TrainOptions& options, const Dataset& train,
                        const Dataset* dev);

// Reads the splits the options need (the dev file only for eval_on = "dev" or test_on = "dev").
TrialSplits read_splits(const TaskSpec& task, const TrainOptions& options);

}  // namespace autopeft::trainer
