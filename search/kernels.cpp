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
  return from_sq_dist(scaled_sq_dist(X, Y));
}

Eigen::MatrixXd Kernel::scaled_sq_dist(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y) const {
  // Centring on X's column means keeps ||a||^2 + ||b||^2 - 2 a.b free of cancellation.
  const Eigen::RowVectorXd centre =
      X.rows() > 0 ? Eigen::RowVectorXd(X.colwise().mean()) : Eigen::RowVectorXd::Zero(X.cols());
  const Eigen::RowVectorXd inv_l = (-theta_.head(dims_)).array().exp().matrix().transpose();
  const Eigen::MatrixXd A = (X.rowwise() - centre).array().rowwise() * inv_l.array();
  const Eigen::MatrixXd B = (Y.rowwise() - centre).array().rowwise() * inv_l.array();
  Eigen::MatrixXd r2 = -2.0 * A * B.transpose();
  r2.colwise() += A.rowwise().squaredNorm();
  r2.rowwise() += B.rowwise().squaredNorm().transpose();
  return r2.cwiseMax(0.0);
}

Eigen::MatrixXd Kernel::from_sq_dist(const Eigen::MatrixXd& r2, Eigen::MatrixXd* factor) const {
  const double s2 = std::exp(theta_[dims_]);
  if (type_ == KernelType::rbf) {
    Eigen::MatrixXd K = s2 * (-0.5 * r2.array()).exp().matrix();
    if (factor) *factor = K;
    return K;
  }
  const Eigen::ArrayXXd r = r2.array().sqrt(), e = (-kSqrt5 * r).exp();
  if (factor) *factor = (s2 * 5.0 / 3.0 * (1.0 + kSqrt5 * r) * e).matrix();
  return (s2 * (1.0 + kSqrt5 * r + 5.0 / 3.0 * r2.array()) * e).matrix();
}

Eigen::VectorXd Kernel::gradient_traces(const Eigen::MatrixXd& X, const Eigen::MatrixXd& W,
                                        const Eigen::MatrixXd& K, const Eigen::MatrixXd& C) const {
  const Eigen::MatrixXd M = W.cwiseProduct(C);
  const Eigen::RowVectorXd centre = X.colwise().mean();
  const Eigen::MatrixXd Xc = X.rowwise() - centre;
  const Eigen::VectorXd m = M.rowwise().sum();
  const Eigen::MatrixXd MX = M * Xc;
  Eigen::VectorXd g(num_params());
  const Eigen::ArrayXd quad = (Xc.array() * MX.array()).colwise().sum().transpose();
  const Eigen::ArrayXd sq = (Xc.array().square().matrix().transpose() * m).array();
  g.head(dims_) = (2.0 * (sq - quad) * (-2.0 * theta_.head(dims_).array()).exp()).matrix();
  g[dims_] = W.cwiseProduct(K).sum();
  return g;
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
