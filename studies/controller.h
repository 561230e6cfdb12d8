#pragma once
// The study controller's proposals. It keeps no state outside the storage: a proposal depends
// only on the stored trials, the study seed and the number of proposals made so far, so a
// resumed study proposes what an uninterrupted one would.
#include <nlohmann/json.hpp>
#include <string>

#include "studies/storage.h"
#include "studies/study_spec.h"

namespace autopeft::studies {

// The next trial to run: the oldest WAITING one (enqueued), else a new proposal started as
// RUNNING for `worker`. Never proposes the parameters of an evaluated or pending trial.
TrialRecord ask(Storage& storage, const StudyRecord& study, const std::string& worker);

// Records the outcome of a RUNNING trial by number: values (one per objective) for COMPLETE,
// none for FAILED. UserError for an unknown or finished trial or a wrong number of values.
void tell(Storage& storage, const StudyRecord& study, std::int64_t number, TrialState state,
          const std::vector<double>& values, const std::string& reason);

// Finished trials that count towards the budget (complete and pruned).
std::int64_t counted_trials(const std::vector<TrialRecord>& trials);

}  // namespace autopeft::studies
