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

double hypervolume_3d(const Eigen::MatrixXd& points, const Eigen::Vector3d& reference) {
  if (points.rows() > 0 && points.cols() != 3)
    throw std::invalid_argument("hypervolume_3d: points must have 3 columns");
  std::vector<Eigen::Vector3d> inside;
  for (Eigen::Index i = 0; i < points.rows(); ++i) {
    const Eigen::Vector3d p = points.row(i).transpose();
    if ((p.array() < reference.array()).all()) inside.push_back(p);
  }
  std::sort(inside.begin(), inside.end(),
            [](const Eigen::Vector3d& a, const Eigen::Vector3d& b) { return a[2] < b[2]; });
  double volume = 0.0;
  Eigen::MatrixXd below(0, 2);
  const Eigen::Vector2d ref2 = reference.head<2>();
  for (std::size_t i = 0; i < inside.size(); ++i) {
    below.conservativeResize(below.rows() + 1, 2);
    below.row(below.rows() - 1) = inside[i].head<2>().transpose();
    const double top = i + 1 < inside.size() ? inside[i + 1][2] : reference[2];
    if (top > inside[i][2]) volume += hypervolume_2d(below, ref2) * (top - inside[i][2]);
  }
  return volume;
}

namespace {

// WFG on points (rows) that all strictly dominate the reference point.
double wfg(const Eigen::MatrixXd& points, const Eigen::VectorXd& reference) {
  const auto n = points.rows();
  const auto m = points.cols();
  if (n == 0) return 0.0;
  if (m == 2) return hypervolume_2d(points, reference);
  if (m == 3) return hypervolume_3d(points, reference);
  // Sorting by the last objective, best last, keeps the limited sets small.
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  std::sort(order.begin(), order.end(),
            [&](Eigen::Index a, Eigen::Index b) { return points(a, m - 1) > points(b, m - 1); });
  double volume = 0.0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Eigen::RowVectorXd p = points.row(order[k]);
    const double box = (reference.transpose() - p).prod();
    // The later points, each limited to p's box (componentwise worse of the two).
    Eigen::MatrixXd limited(static_cast<Eigen::Index>(order.size() - k - 1), m);
    for (std::size_t j = k + 1; j < order.size(); ++j)
      limited.row(static_cast<Eigen::Index>(j - k - 1)) = points.row(order[j]).cwiseMax(p);
    Eigen::MatrixXd front(0, m);
    if (limited.rows() > 0) {
      const auto keep = pareto_front(limited);
      front.resize(static_cast<Eigen::Index>(keep.size()), m);
      for (std::size_t i = 0; i < keep.size(); ++i)
        front.row(static_cast<Eigen::Index>(i)) = limited.row(keep[i]);
    }
    volume += box - wfg(front, reference);
  }
  return volume;
}

}  // namespace

double hypervolume(const Eigen::MatrixXd& points, const Eigen::VectorXd& reference) {
  const auto m = reference.size();
  if (points.rows() > 0 && points.cols() != m)
    throw std::invalid_argument("hypervolume: points and reference differ in objectives");
  if (m < 1) throw std::invalid_argument("hypervolume: no objectives");
  std::vector<Eigen::Index> inside;
  for (Eigen::Index i = 0; i < points.rows(); ++i)
    if ((points.row(i).transpose().array() < reference.array()).all()) inside.push_back(i);
  if (m == 1) {
    double best = reference[0];
    for (const auto i : inside) best = std::min(best, points(i, 0));
    return reference[0] - best;
  }
  Eigen::MatrixXd kept(static_cast<Eigen::Index>(inside.size()), m);
  for (std::size_t i = 0; i < inside.size(); ++i)
    kept.row(static_cast<Eigen::Index>(i)) = points.row(inside[i]);
  if (kept.rows() > 0) {  // dominated points add nothing: drop them once
    const auto keep = pareto_front(kept);
    Eigen::MatrixXd front(static_cast<Eigen::Index>(keep.size()), m);
    for (std::size_t i = 0; i < keep.size(); ++i) front.row(static_cast<Eigen::Index>(i)) = kept.row(keep[i]);
    kept = front;
  }
  return wfg(kept, reference);
}

}  // namespace autopeft::search
