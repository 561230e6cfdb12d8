#pragma once
// Exact Gaussian-process regression with a constant mean and Gaussian noise.
// Hyper-parameters (log space where positive): theta = [kernel params (log l_1..d, log s2),
// log noise variance, mean]. The log marginal likelihood
//   L = -1/2 (y - m)^T K^-1 (y - m) - 1/2 log|K| - n/2 log 2 pi,   K = K_f + noise I,
// and its gradient dL/dtheta_j = 1/2 tr((a a^T - K^-1) dK/dtheta_j), dL/dm = 1^T a, a = K^-1 (y - m).
// The Cholesky factorisation adds jitter (1e-10 x mean diagonal, growing tenfold up to 1e-2)
// until it succeeds with no pivot below 1e-12 x mean diagonal. (Hyper-parameter fitting with
// priors, NLopt restarts and warm starts: next step of the search issue.)
#include <Eigen/Core>

#include "search/cholesky.h"
#include "search/kernels.h"

namespace autopeft::search {

class GaussianProcess {
 public:
  GaussianProcess(KernelType kernel, int dims);

  int num_params() const { return kernel_.num_params() + 2; }
  Eigen::VectorXd params() const;  // [kernel params, log noise, mean]
  void set_params(const Eigen::VectorXd& theta);
  const Kernel& kernel() const { return kernel_; }
  double noise() const;
  double mean() const { return mean_; }

  // Conditions on data X (n x d) and y (n); refactors K. Throws std::runtime_error when K cannot
  // be factorised even with the largest jitter.
  void fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y);
  double jitter() const { return jitter_; }

  // Posterior mean and variance of the latent function at the rows of Xs.
  void predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::VectorXd& variance) const;

  // Posterior covariance of the latent function between the rows of A and of B:
  // k(A, B) - k(A, X) K^-1 k(X, B).
  Eigen::MatrixXd posterior_covariance(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const;
  // Its pieces: the prior k(A, B), and L^-1 k(X, B) with K = L L^T, so that the posterior
  // covariance is prior(A, B) - whiten(A)^T whiten(B).
  Eigen::MatrixXd prior_covariance(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const;
  Eigen::MatrixXd whiten(const Eigen::MatrixXd& B) const;
  const Eigen::MatrixXd& inputs() const { return X_; }  // the rows it was fitted on

  // Mean and variance at one point, with their gradients with respect to x.
  void predict_with_gradient(const Eigen::VectorXd& x, double& mean, double& variance, Eigen::VectorXd& dmean,
                             Eigen::VectorXd& dvariance) const;
  int num_observations() const { return static_cast<int>(y_.size()); }

  double log_marginal_likelihood() const;
  Eigen::VectorXd log_marginal_likelihood_gradient() const;

 private:
  Kernel kernel_;
  double log_noise_ = std::log(1e-4);
  double mean_ = 0.0;
  Eigen::MatrixXd X_;
  Eigen::VectorXd y_;
  Eigen::MatrixXd Kf_, C_;  // K(X_, X_) without noise and its lengthscale factor (for the gradient)
  Cholesky chol_;
  Eigen::VectorXd alpha_;
  double jitter_ = 0.0;
};

}  // namespace autopeft::search
