#include "search/output_transform.h"

#include <algorithm>
#include <boost/math/special_functions/erf.hpp>
#include <cmath>
#include <stdexcept>

namespace autopeft::search {

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) throw std::invalid_argument("normal_quantile: p must be in (0, 1)");
  return std::sqrt(2.0) * boost::math::erf_inv(2.0 * p - 1.0);
}

OutputTransform::OutputTransform(const std::string& kind, const Eigen::VectorXd& observed) {
  if (kind != "standardize" && kind != "copula")
    throw std::invalid_argument("OutputTransform: '" + kind + "' is not standardize or copula");
  copula_ = kind == "copula";
  const auto n = observed.size();
  if (copula_) {
    sorted_ = observed;
    std::sort(sorted_.data(), sorted_.data() + n);
  } else if (n > 0) {
    mean_ = observed.mean();
    sd_ = std::max(1e-12, std::sqrt((observed.array() - mean_).square().sum() /
                                    static_cast<double>(std::max<Eigen::Index>(1, n - 1))));
  }
}

double OutputTransform::operator()(double v) const {
  if (!copula_) return (v - mean_) / sd_;
  const auto n = sorted_.size();
  const auto at_or_below = std::upper_bound(sorted_.data(), sorted_.data() + n, v) - sorted_.data();
  const double u = n > 0 ? static_cast<double>(at_or_below) / static_cast<double>(n) : 0.5;
  return normal_quantile(std::clamp(u, 1e-4, 0.9999));
}

Eigen::VectorXd OutputTransform::operator()(const Eigen::VectorXd& v) const {
  Eigen::VectorXd out(v.size());
  for (Eigen::Index i = 0; i < v.size(); ++i) out[i] = (*this)(v[i]);
  return out;
}

}  // namespace autopeft::search
