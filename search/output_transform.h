#pragma once
// The transform of one objective's observed values before its GP sees them (and of a reference
// point given in the objective's units, so that it lands where those values do):
//   standardize  (y - mean) / sd (sample sd)
//   copula       AutoPEFT's normal copula: the empirical CDF, u = #{y_j <= v} / n, clamped to
//                [1e-4, 0.9999], then the standard normal quantile. Rank-based, so outliers and
//                skew (a few failed-looking trials, accuracies piled near a ceiling) do not
//                squash the rest.
#include <Eigen/Core>

#include <string>

namespace autopeft::search {

class OutputTransform {
 public:
  // `kind`: "standardize" or "copula" (std::invalid_argument otherwise).
  OutputTransform(const std::string& kind, const Eigen::VectorXd& observed);
  double operator()(double v) const;
  Eigen::VectorXd operator()(const Eigen::VectorXd& v) const;

 private:
  bool copula_;
  Eigen::VectorXd sorted_;
  double mean_ = 0, sd_ = 1;
};

// The standard normal quantile function (inverse CDF), p in (0, 1).
double normal_quantile(double p);

}  // namespace autopeft::search
