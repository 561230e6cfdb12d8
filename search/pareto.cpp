#include "search/pareto.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace autopeft::search {

bool dominates(const Eigen::Ref<const Eigen::VectorXd>& a, const Eigen::Ref<const Eigen::VectorXd>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("dominates: points of different dimension");
  bool strictly_better = false;
  for (Eigen::Index k = 0; k < a.size(); ++k) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) strictly_better = true;
  }
  return strictly_better;
}

std::vector<std::vector<int>> non_dominated_sort(const Eigen::MatrixXd& points) {
  const int n = static_cast<int>(points.rows());
  std::vector<std::vector<int>> dominated_by_me(n);
  std::vector<int> domination_count(n, 0);
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      if (dominates(points.row(i).transpose(), points.row(j).transpose())) {
        dominated_by_me[i].push_back(j);
        ++domination_count[j];
      } else if (dominates(points.row(j).transpose(), points.row(i).transpose())) {
        dominated_by_me[j].push_back(i);
        ++domination_count[i];
      }
    }
  }
  std::vector<std::vector<int>> fronts;
  std::vector<int> current;
  for (int i = 0; i < n; ++i)
    if (domination_count[i] == 0) current.push_back(i);
  while (!current.empty()) {
    std::vector<int> next;
    for (int i : current)
      for (int j : dominated_by_me[i])
        if (--domination_count[j] == 0) next.push_back(j);
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(current));
    current = std::move(next);
  }
  return fronts;
}

std::vector<int> pareto_front(const Eigen::MatrixXd& points) {
  if (points.rows() == 0) return {};
  return non_dominated_sort(points).front();
}

double hypervolume_2d(const Eigen::MatrixXd& points, const Eigen::Vector2d& reference) {
  if (points.rows() > 0 && points.cols() != 2)
    throw std::invalid_argument("hypervolume_2d: points must have 2 columns");
  std::vector<Eigen::Vector2d> inside;
  for (Eigen::Index i = 0; i < points.rows(); ++i) {
    const Eigen::Vector2d p = points.row(i).transpose();
    if (p[0] < reference[0] && p[1] < reference[1]) inside.push_back(p);
  }
  // Sweep along the first objective; each point adds the strip between it and the best second
  // objective seen so far.
  std::sort(inside.begin(), inside.end(), [](const Eigen::Vector2d& a, const Eigen::Vector2d& b) {
    return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]);
  });
  double volume = 0.0;
  double best_second = reference[1];
  for (const auto& p : inside) {
    if (p[1] < best_second) {
      volume += (reference[0] - p[0]) * (best_second - p[1]);
      best_second = p[1];
    }
  }
  return volume;
}

}  // namespace autopeft::search
