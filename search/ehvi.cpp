#include "search/ehvi.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
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

Eigen::MatrixXd front_inside(const Eigen::MatrixXd& points, const Eigen::VectorXd& reference) {
  std::vector<Eigen::Index> inside;
  for (Eigen::Index i = 0; i < points.rows(); ++i)
    if ((points.row(i).transpose().array() < reference.array()).all()) inside.push_back(i);
  Eigen::MatrixXd candidates(static_cast<Eigen::Index>(inside.size()), reference.size());
  for (std::size_t i = 0; i < inside.size(); ++i)
    candidates.row(static_cast<Eigen::Index>(i)) = points.row(inside[i]);
  const auto keep = candidates.rows() > 0 ? pareto_front(candidates) : std::vector<int>{};
  Eigen::MatrixXd front(static_cast<Eigen::Index>(keep.size()), reference.size());
  for (std::size_t i = 0; i < keep.size(); ++i)
    front.row(static_cast<Eigen::Index>(i)) = candidates.row(keep[i]);
  return front;
}

double hypervolume_improvement(const Eigen::MatrixXd& front, double hv0, const Eigen::VectorXd& z,
                               const Eigen::VectorXd& reference, Eigen::MatrixXd& scratch) {
  if (!(z.array() < reference.array()).all()) return 0.0;
  for (Eigen::Index i = 0; i < front.rows(); ++i)
    if ((front.row(i).transpose().array() <= z.array()).all()) return 0.0;
  scratch.row(front.rows()) = z.transpose();
  return hypervolume(scratch, reference) - hv0;
}

MonteCarloEhvi::MonteCarloEhvi(const Eigen::MatrixXd& front, const Eigen::VectorXd& reference,
                               Eigen::MatrixXd normals)
    : reference_(reference), normals_(std::move(normals)), base_(front_inside(front, reference)) {
  hv0_ = hypervolume(base_, reference_);
}

double MonteCarloEhvi::operator()(const Eigen::VectorXd& mu, const Eigen::VectorXd& sigma) const {
  if (normals_.rows() == 0) return 0.0;
  Eigen::MatrixXd with(base_.rows() + 1, base_.cols());
  with.topRows(base_.rows()) = base_;
  double total = 0;
  for (Eigen::Index s = 0; s < normals_.rows(); ++s) {
    const Eigen::VectorXd z = mu.array() + sigma.array() * normals_.row(s).transpose().array();
    total += hypervolume_improvement(base_, hv0_, z, reference_, with);
  }
  return total / static_cast<double>(normals_.rows());
}

double ehvi_mc(const Eigen::MatrixXd& front, const Eigen::VectorXd& reference, const Eigen::VectorXd& mu,
               const Eigen::VectorXd& sigma, const Eigen::MatrixXd& normals) {
  return MonteCarloEhvi(front, reference, normals)(mu, sigma);
}

}  // namespace autopeft::search
