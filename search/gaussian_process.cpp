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
  Eigen::MatrixXd K = kernel_.matrix(X, X);
  K.diagonal().array() += noise();
  const double scale = K.diagonal().mean();
  jitter_ = 0.0;
  for (double j = 0.0; j <= 1e-2 * scale;) {
    Eigen::MatrixXd Kj = K;
    Kj.diagonal().array() += j;
    llt_.compute(Kj);
    // A pivot that is numerically zero (duplicate points without noise) counts as a failure too.
    const bool ok = llt_.info() == Eigen::Success &&
                    llt_.matrixLLT().diagonal().array().square().minCoeff() > 1e-12 * scale;
    if (ok) {
      jitter_ = j;
      alpha_ = llt_.solve((y_.array() - mean_).matrix());
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
  const Eigen::MatrixXd V = llt_.matrixL().solve(Ks);
  variance.resize(Xs.rows());
  for (Eigen::Index i = 0; i < Xs.rows(); ++i)
    variance[i] =
        std::max(0.0, kernel_(Xs.row(i).transpose(), Xs.row(i).transpose()) - V.col(i).squaredNorm());
}

void GaussianProcess::predict_with_gradient(const Eigen::VectorXd& x, double& mean, double& variance,
                                            Eigen::VectorXd& dmean, Eigen::VectorXd& dvariance) const {
  const auto n = X_.rows();
  const int d = kernel_.dims();
  Eigen::VectorXd ks(n);
  Eigen::MatrixXd dks(n, d);  // row i: d k(x, x_i) / dx
  for (Eigen::Index i = 0; i < n; ++i) {
    ks[i] = kernel_(x, X_.row(i).transpose());
    dks.row(i) = kernel_.gradient_x(x, X_.row(i).transpose()).transpose();
  }
  mean = ks.dot(alpha_) + mean_;
  dmean = dks.transpose() * alpha_;
  const Eigen::VectorXd v = llt_.solve(ks);  // K^-1 k*
  // k(x, x) is constant for stationary kernels: d var / dx = -2 (dk*/dx)^T K^-1 k*.
  variance = std::max(0.0, kernel_(x, x) - ks.dot(v));
  dvariance = -2.0 * dks.transpose() * v;
}

double GaussianProcess::log_marginal_likelihood() const {
  const auto n = static_cast<double>(y_.size());
  const Eigen::VectorXd r = (y_.array() - mean_).matrix();
  const double log_det = 2.0 * llt_.matrixL().toDenseMatrix().diagonal().array().log().sum();
  return -0.5 * r.dot(alpha_) - 0.5 * log_det - 0.5 * n * std::log(2.0 * M_PI);
}

Eigen::VectorXd GaussianProcess::log_marginal_likelihood_gradient() const {
  const auto n = y_.size();
  const Eigen::MatrixXd Kinv = llt_.solve(Eigen::MatrixXd::Identity(n, n));
  const Eigen::MatrixXd W = alpha_ * alpha_.transpose() - Kinv;
  Eigen::VectorXd g(num_params());
  const auto dK = kernel_.gradients(X_);
  for (std::size_t j = 0; j < dK.size(); ++j)
    g[static_cast<Eigen::Index>(j)] = 0.5 * (W.cwiseProduct(dK[j])).sum();
  g[kernel_.num_params()] = 0.5 * W.trace() * noise();  // dK/dlog noise = noise I
  g[kernel_.num_params() + 1] = alpha_.sum();
  return g;
}

}  // namespace autopeft::search
