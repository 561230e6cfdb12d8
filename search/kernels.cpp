#include "search/kernels.h"

#include <cmath>
#include <stdexcept>

#include "core/errors.h"

namespace autopeft::search {

KernelType parse_kernel(const std::string& name) {
  if (name == "matern52") return KernelType::matern52;
  if (name == "rbf") return KernelType::rbf;
  throw_user_error("kernel", "unknown kernel '" + name + "' (expected matern52 or rbf)");
}

Kernel::Kernel(KernelType type, int dims)
    : type_(type), dims_(dims), theta_(Eigen::VectorXd::Zero(dims + 1)) {}

void Kernel::set_params(const Eigen::VectorXd& theta) {
  if (theta.size() != num_params()) throw std::invalid_argument("Kernel::set_params: wrong size");
  theta_ = theta;
}

namespace {
constexpr double kSqrt5 = 2.23606797749978969641;
}

double Kernel::operator()(const Eigen::Ref<const Eigen::VectorXd>& x,
                          const Eigen::Ref<const Eigen::VectorXd>& y) const {
  const double s2 = std::exp(theta_[dims_]);
  double r2 = 0;
  for (int i = 0; i < dims_; ++i) {
    const double d = (x[i] - y[i]) / std::exp(theta_[i]);
    r2 += d * d;
  }
  if (type_ == KernelType::rbf) return s2 * std::exp(-0.5 * r2);
  const double r = std::sqrt(r2);
  return s2 * (1.0 + kSqrt5 * r + 5.0 / 3.0 * r2) * std::exp(-kSqrt5 * r);
}

Eigen::MatrixXd Kernel::matrix(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y) const {
  Eigen::MatrixXd K(X.rows(), Y.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < Y.rows(); ++j) K(i, j) = (*this)(X.row(i).transpose(), Y.row(j).transpose());
  return K;
}

Eigen::VectorXd Kernel::gradient_x(const Eigen::Ref<const Eigen::VectorXd>& x,
                                   const Eigen::Ref<const Eigen::VectorXd>& y) const {
  const double s2 = std::exp(theta_[dims_]);
  Eigen::VectorXd scaled(dims_);  // (x_i - y_i) / l_i^2
  double r2 = 0;
  for (int i = 0; i < dims_; ++i) {
    const double l2 = std::exp(2.0 * theta_[i]);
    scaled[i] = (x[i] - y[i]) / l2;
    r2 += (x[i] - y[i]) * (x[i] - y[i]) / l2;
  }
  if (type_ == KernelType::rbf) return -s2 * std::exp(-0.5 * r2) * scaled;
  const double r = std::sqrt(r2);
  return -s2 * 5.0 / 3.0 * (1.0 + kSqrt5 * r) * std::exp(-kSqrt5 * r) * scaled;
}

std::vector<Eigen::MatrixXd> Kernel::gradients(const Eigen::MatrixXd& X) const {
  const auto n = X.rows();
  const double s2 = std::exp(theta_[dims_]);
  Eigen::VectorXd inv_l2(dims_);
  for (int i = 0; i < dims_; ++i) inv_l2[i] = std::exp(-2.0 * theta_[i]);
  std::vector<Eigen::MatrixXd> g(static_cast<std::size_t>(num_params()), Eigen::MatrixXd::Zero(n, n));
  for (Eigen::Index a = 0; a < n; ++a)
    for (Eigen::Index b = a; b < n; ++b) {
      double r2 = 0;
      for (int i = 0; i < dims_; ++i) {
        const double d = X(a, i) - X(b, i);
        r2 += d * d * inv_l2[i];
      }
      double k, common;  // dk/dlog l_i = common * (x_i - y_i)^2 / l_i^2
      if (type_ == KernelType::rbf) {
        k = s2 * std::exp(-0.5 * r2);
        common = k;
      } else {
        const double r = std::sqrt(r2), e = std::exp(-kSqrt5 * r);
        k = s2 * (1.0 + kSqrt5 * r + 5.0 / 3.0 * r2) * e;
        common = s2 * 5.0 / 3.0 * (1.0 + kSqrt5 * r) * e;
      }
      for (int i = 0; i < dims_; ++i) {
        const double d = X(a, i) - X(b, i);
        g[static_cast<std::size_t>(i)](a, b) = g[static_cast<std::size_t>(i)](b, a) =
            common * d * d * inv_l2[i];
      }
      g[static_cast<std::size_t>(dims_)](a, b) = g[static_cast<std::size_t>(dims_)](b, a) = k;
    }
  return g;
}

}  // namespace autopeft::search
