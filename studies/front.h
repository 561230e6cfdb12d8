#pragma once
// The Pareto view of a study's trials, shared by the study commands (status, pareto, export
// --pick) and the HTML report: objectives oriented for minimisation from the stored directions,
// the non-dominated trials, the knee, and the hypervolume (any number of objectives) with the
// worst observed value of each objective as the reference point.
#include <Eigen/Core>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "studies/storage.h"

namespace autopeft::studies {

// The complete trials that carry a value for every objective, in the order given.
std::vector<TrialRecord> complete_with_values(const std::vector<TrialRecord>& trials,
                                              const StudyRecord& study);

// Row i: trial i's values, negated where the objective is maximised (so every column is minimised).
Eigen::MatrixXd minimised_values(const std::vector<TrialRecord>& trials, const StudyRecord& study);

// Indices (ascending) of the trials no other trial dominates.
std::vector<std::size_t> front_indices(const std::vector<TrialRecord>& trials, const StudyRecord& study);

// Among `front` (non-dominated trials): the one closest to the utopia point once every objective
// is scaled to [0, 1] over the front. Empty for an empty front.
std::optional<std::size_t> knee_index(const std::vector<TrialRecord>& front, const StudyRecord& study);

// Hypervolume of the trials (reference: the worst observed value of each objective, so the
// trials that set it add nothing in that direction); NaN without trials or with one objective.
double hypervolume_of(const std::vector<TrialRecord>& trials, const StudyRecord& study);

// (trial number, hypervolume of the trials up to it) in trial-number order, with the reference
// point of all of them, so that the trace is comparable along the study; empty as NaN above.
std::vector<std::pair<std::int64_t, double>> hypervolume_trace(const std::vector<TrialRecord>& trials,
                                                               const StudyRecord& study);

}  // namespace autopeft::studies
