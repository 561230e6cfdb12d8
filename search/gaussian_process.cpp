#include "search/gaussian_process.h"

#include <cmath>
#include <stdexcept>

namespace autopeft::search {

GaussianProcess::GaussianProcess(KernelType kernel, int dims) : kernel_(kernel, dims) {}

Eigen::VectorXd GaussianProcess::params() const {
  Eigen::VectorXd t(num_params());
  t.head(kernel_.num_params()) = kernel_.params();
  t[kernel_.num_params()] = log_noise_;
  t[kernel_.num_params() + 1] = mean_;
  return t;
}

void GaussianProcess::set_params(const Eigen::VectorXd& theta) {
  if (theta.size() != num_params()) throw std::invalid_argument("GaussianProcess::set_params: wrong size");
  kernel_.set_params(theta.head(kernel_.num_params()));
  log_noise_ = theta[kernel_.num_params()];
  mean_ = theta[kernel_.num_params() + 1];
  if (X_.rows() > 0) fit(X_, y_);
}

double GaussianProcess::noise() const { return std::exp(log_noise_); }

void GaussianProcess::fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y) {
  if (X.rows() != y.size()) throw std::invalid_argument("GaussianProcess::fit: X and y differ in length");
  X_ = X;
  y_ = y;
  Kf_ = kernel_.from_sq_dist(kernel_.scaled_sq_dist(X_, X_), &C_);
  Eigen::MatrixXd K = Kf_;
  K.diagonal().array() += noise();
  const double scale = K.diagonal().mean();
  jitter_ = 0.0;
  for (double j = 0.0; j <= 1e-2 * scale;) {
    Eigen::MatrixXd Kj = K;
    Kj.diagonal().array() += j;
    // A pivot that is numerically zero (duplicate points without noise) counts as a failure too.
    const bool ok = chol_.compute(Kj) && chol_.diagonal().array().square().minCoeff() > 1e-12 * scale;
    if (ok) {
      jitter_ = j;
      alpha_ = chol_.solve((y_.array() - mean_).matrix());
      return;
    }
    j = j == 0.0 ? 1e-10 * scale : j * 10.0;
  }
  throw std::runtime_error("GaussianProcess: the kernel matrix is not positive definite even with jitter");
}

void GaussianProcess::predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean,
                              Eigen::VectorXd& variance) const {
  const Eigen::MatrixXd Ks = kernel_.matrix(X_, Xs);  // n x m
  mean = (Ks.transpose() * alpha_).array() + mean_;
  const Eigen::MatrixXd V = chol_.solve_lower(Ks);
  // Stationary kernels: k(x, x) = s2 everywhere.
  const double prior = std::exp(kernel_.params()[kernel_.dims()]);
  variance = (prior - V.colwise().squaredNorm().transpose().array()).cwiseMax(0.0).matrix();
}

Eigen::MatrixXd GaussianProcess::prior_covariance(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const {
  return kernel_.matrix(A, B);
}

Eigen::MatrixXd GaussianProcess::whiten(const Eigen::MatrixXd& B) const {
  return chol_.solve_lower(kernel_.matrix(X_, B));
}

Eigen::MatrixXd GaussianProcess::posterior_covariance(const Eigen::MatrixXd& A,
                                                      const Eigen::MatrixXd& B) const {
  return prior_covariance(A, B) - whiten(A).transpose() * whiten(B);
}

void GaussianProcess::predict_with_gradient(const Eigen::VectorXd& x, double& mean, double& variance,
                                            Eigen::VectorXd& dmean, Eigen::VectorXd& dvariance) const {
  const int d = kernel_.dims();
  const Eigen::VectorXd& theta = kernel_.params();
  const double s2 = std::exp(theta[d]);
  const Eigen::ArrayXd inv_l2 = (-2.0 * theta.head(d)).array().exp();
  const Eigen::ArrayXXd diff = X_.rowwise() - x.transpose();  // x_i - x
  const Eigen::ArrayXd r2 = (diff.square().rowwise() * inv_l2.transpose()).rowwise().sum();
  Eigen::ArrayXd k, common;  // d k(x, x_i)/dx = common_i (x_i - x) / l^2
  if (kernel_.type() == KernelType::rbf) {
    k = s2 * (-0.5 * r2).exp();
    common = k;
  } else {
    constexpr double kSqrt5 = 2.23606797749978969641;
    const Eigen::ArrayXd r = r2.sqrt(), e = (-kSqrt5 * r).exp();
    k = s2 * (1.0 + kSqrt5 * r + 5.0 / 3.0 * r2) * e;
    common = s2 * 5.0 / 3.0 * (1.0 + kSqrt5 * r) * e;
  }
  const Eigen::VectorXd ks = k.matrix();
  const Eigen::MatrixXd dks = ((diff.rowwise() * inv_l2.transpose()).colwise() * common).matrix();
  mean = ks.dot(alpha_) + mean_;
  dmean = dks.transpose() * alpha_;
  const Eigen::VectorXd v = chol_.solve(ks);  // K^-1 k*
  // k(x, x) is constant for stationary kernels: d var / dx = -2 (dk*/dx)^T K^-1 k*.
  variance = std::max(0.0, s2 - ks.dot(v));
  dvariance = -2.0 * dks.transpose() * v;
}

double GaussianProcess::log_marginal_likelihood() const {
  const auto n = static_cast<double>(y_.size());
  const Eigen::VectorXd r = (y_.array() - mean_).matrix();
  const double log_det = 2.0 * chol_.diagonal().array().log().sum();
  return -0.5 * r.dot(alpha_) - 0.5 * log_det - 0.5 * n * std::log(2.0 * M_PI);
}

Eigen::VectorXd GaussianProcess::log_marginal_likelihood_gradient() const {
  const Eigen::MatrixXd Kinv = chol_.inverse();
  const Eigen::MatrixXd W = alpha_ * alpha_.transpose() - Kinv;
  Eigen::VectorXd g(num_params());
  g.head(kernel_.num_params()) = 0.5 * kernel_.gradient_traces(X_, W, Kf_, C_);
  g[kernel_.num_params()] = 0.5 * W.trace() * noise();  // dK/dlog noise = noise I
  g[kernel_.num_params() + 1] = alpha_.sum();
  return g;
}

}  // namespace autopeft::search
