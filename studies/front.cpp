#include "studies/front.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "search/pareto.h"

namespace autopeft::studies {

std::vector<TrialRecord> complete_with_values(const std::vector<TrialRecord>& trials,
                                              const StudyRecord& study) {
  std::vector<TrialRecord> out;
  for (const auto& t : trials)
    if (t.state == TrialState::complete && t.values.size() == study.objectives.size()) out.push_back(t);
  return out;
}

Eigen::MatrixXd minimised_values(const std::vector<TrialRecord>& trials, const StudyRecord& study) {
  Eigen::MatrixXd m(static_cast<Eigen::Index>(trials.size()),
                    static_cast<Eigen::Index>(study.objectives.size()));
  for (std::size_t i = 0; i < trials.size(); ++i)
    for (std::size_t k = 0; k < study.objectives.size(); ++k)
      m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) =
          study.objectives[k].direction == "maximize" ? -trials[i].values[k] : trials[i].values[k];
  return m;
}

std::vector<std::size_t> front_indices(const std::vector<TrialRecord>& trials, const StudyRecord& study) {
  std::vector<std::size_t> out;
  if (trials.empty()) return out;
  for (const int i : search::pareto_front(minimised_values(trials, study)))
    out.push_back(static_cast<std::size_t>(i));
  return out;
}

std::optional<std::size_t> knee_index(const std::vector<TrialRecord>& front, const StudyRecord& study) {
  if (front.empty()) return std::nullopt;
  const Eigen::MatrixXd m = minimised_values(front, study);
  const Eigen::RowVectorXd lo = m.colwise().minCoeff(), hi = m.colwise().maxCoeff();
  double best = std::numeric_limits<double>::infinity();
  std::size_t at = 0;
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    double d = 0;
    for (Eigen::Index k = 0; k < m.cols(); ++k) {
      const double span = hi[k] - lo[k];
      const double u = span > 0 ? (m(i, k) - lo[k]) / span : 0.0;  // 0 = the best on the front
      d += u * u;
    }
    if (d < best) best = d, at = static_cast<std::size_t>(i);
  }
  return at;
}

double hypervolume_of(const std::vector<TrialRecord>& trials, const StudyRecord& study) {
  if (trials.empty() || study.objectives.size() < 2) return std::nan("");
  const Eigen::MatrixXd m = minimised_values(trials, study);
  return search::hypervolume(m, m.colwise().maxCoeff().transpose());
}

std::vector<std::pair<std::int64_t, double>> hypervolume_trace(const std::vector<TrialRecord>& trials,
                                                               const StudyRecord& study) {
  std::vector<std::pair<std::int64_t, double>> out;
  if (trials.empty() || study.objectives.size() < 2) return out;
  std::vector<TrialRecord> sorted = trials;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
  const Eigen::MatrixXd all = minimised_values(sorted, study);
  const Eigen::VectorXd ref = all.colwise().maxCoeff().transpose();
  for (Eigen::Index i = 0; i < all.rows(); ++i)
    out.emplace_back(sorted[static_cast<std::size_t>(i)].number,
                     search::hypervolume(all.topRows(i + 1), ref));
  return out;
}

}  // namespace autopeft::studies
