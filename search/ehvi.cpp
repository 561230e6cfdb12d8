#include "search/ehvi.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "search/pareto.h"

namespace autopeft::search {

double expected_shortfall_below(double c, double mu, double sigma) {
  if (std::isinf(c)) return c < 0 ? 0.0 : std::numeric_limits<double>::infinity();
  if (sigma <= 0) return std::max(0.0, c - mu);
  const double t = (c - mu) / sigma;
  const double Phi = 0.5 * std::erfc(-t / std::sqrt(2.0));
  const double phi = std::exp(-0.5 * t * t) / std::sqrt(2.0 * M_PI);
  return (c - mu) * Phi + sigma * phi;
}

double ehvi_2d(const Eigen::MatrixXd& front, const Eigen::Vector2d& reference, const Eigen::Vector2d& mu,
               const Eigen::Vector2d& sigma) {
  std::vector<std::pair<double, double>> p;
  for (Eigen::Index i = 0; i < front.rows(); ++i)
    if (front(i, 0) < reference[0] && front(i, 1) < reference[1]) p.emplace_back(front(i, 0), front(i, 1));
  std::sort(p.begin(), p.end());
  // Keep the staircase: y2 strictly decreasing along y1.
  std::vector<std::pair<double, double>> stairs;
  for (const auto& q : p)
    if (stairs.empty() || q.second < stairs.back().second) stairs.push_back(q);
  const auto G1 = [&](double c) { return expected_shortfall_below(c, mu[0], sigma[0]); };
  const auto G2 = [&](double c) { return expected_shortfall_below(c, mu[1], sigma[1]); };
  double total = 0;
  double c_prev = -std::numeric_limits<double>::infinity();
  double h = reference[1];
  for (std::size_t j = 0; j <= stairs.size(); ++j) {
    const double c_next = j < stairs.size() ? stairs[j].first : reference[0];
    total += (G1(c_next) - G1(c_prev)) * G2(h);
    if (j < stairs.size()) {
      c_prev = stairs[j].first;
      h = stairs[j].second;
    }
  }
  return total;
}

double ehvi_mc(const Eigen::MatrixXd& front, const Eigen::VectorXd& reference, const Eigen::VectorXd& mu,
               const Eigen::VectorXd& sigma, const Eigen::MatrixXd& normals) {
  const auto m = reference.size();
  std::vector<Eigen::Index> inside;
  for (Eigen::Index i = 0; i < front.rows(); ++i)
    if ((front.row(i).transpose().array() < reference.array()).all()) inside.push_back(i);
  Eigen::MatrixXd kept(static_cast<Eigen::Index>(inside.size()) + 1, m);
  for (std::size_t i = 0; i < inside.size(); ++i)
    kept.row(static_cast<Eigen::Index>(i)) = front.row(inside[i]);
  Eigen::MatrixXd base = kept.topRows(static_cast<Eigen::Index>(inside.size()));
  if (base.rows() > 0) {
    const auto keep = pareto_front(base);
    Eigen::MatrixXd f(static_cast<Eigen::Index>(keep.size()) + 1, m);
    for (std::size_t i = 0; i < keep.size(); ++i) f.row(static_cast<Eigen::Index>(i)) = base.row(keep[i]);
    kept = f;
    base = kept.topRows(kept.rows() - 1);
  }
  const double hv0 = hypervolume(base, reference);
  double total = 0;
  for (Eigen::Index s = 0; s < normals.rows(); ++s) {
    const Eigen::VectorXd z = mu.array() + sigma.array() * normals.row(s).transpose().array();
    if (!(z.array() < reference.array()).all()) continue;
    bool dominated = false;
    for (Eigen::Index i = 0; i < base.rows() && !dominated; ++i)
      dominated = (base.row(i).transpose().array() <= z.array()).all();
    if (dominated) continue;
    kept.row(kept.rows() - 1) = z.transpose();
    total += hypervolume(kept, reference) - hv0;
  }
  return normals.rows() > 0 ? total / static_cast<double>(normals.rows()) : 0.0;
}

}  // namespace autopeft::search
