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

}  // namespace autopeft::search
