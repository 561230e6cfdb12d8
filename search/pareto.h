#pragma once
// Pareto tools. Convention: every objective is MINIMISED here; callers negate the objectives
// they maximise before calling (the study layer does this from the stored directions).
//
// Points are the rows of an n x m matrix (n points, m objectives).
#include <Eigen/Core>

#include <vector>

namespace autopeft::search {

// True when a is no worse than b in every objective and strictly better in at least one.
bool dominates(const Eigen::Ref<const Eigen::VectorXd>& a, const Eigen::Ref<const Eigen::VectorXd>& b);

// Non-dominated sorting (Deb et al., NSGA-II): fronts[0] holds the indices of the
// non-dominated rows, fronts[1] those dominated only by fronts[0], and so on. Indices ascend
// within a front. Duplicate points share a front. O(m n^2).
std::vector<std::vector<int>> non_dominated_sort(const Eigen::MatrixXd& points);

// Indices (ascending) of the rows no other row dominates.
std::vector<int> pareto_front(const Eigen::MatrixXd& points);

// Exact hypervolume dominated by the points and bounded by the reference point, for two
// objectives: the area of the union of boxes [p, ref]. Points that do not strictly dominate the
// reference point in both objectives contribute nothing. O(n log n).
double hypervolume_2d(const Eigen::MatrixXd& points, const Eigen::Vector2d& reference);

// Exact hypervolume for three objectives: slices along the third objective, each the 2-D
// hypervolume of the points at or below it. O(n^2 log n).
double hypervolume_3d(const Eigen::MatrixXd& points, const Eigen::Vector3d& reference);

// Exact hypervolume for any number of objectives (>= 1): 2-D and 3-D as above, more by WFG
// (While, Bradstreet & Barone 2012: the sum of each point's exclusive volume, that volume being
// its box less the hypervolume of the rest limited to the box, recursively).
double hypervolume(const Eigen::MatrixXd& points, const Eigen::VectorXd& reference);

}  // namespace autopeft::search
