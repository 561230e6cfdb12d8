#pragma once
// Fitting a GP's hyper-parameters by maximum a posteriori with analytic gradients (NLopt's
// L-BFGS), from the current parameters (a warm start) and random restarts. Priors, in log space:
//   log l_i ~ N(sqrt2 + log(d)/2, sqrt3)  (the dimension-scaled lengthscale prior BoTorch uses by
//                                           default since 0.12, so high-d spaces stay smooth)
//   log s2  ~ N(0, 2)                      (outputs are standardised before fitting)
//   log noise ~ N(-4, 1)                   (BoTorch's LogNormal(-4, 1) noise prior)
//   mean    ~ N(0, 1)
// With LengthscalePrior::saas the lengthscales get SAAS's sparsity prior instead: inverse squared
// lengthscales rho_i = l_i^-2 ~ half-Cauchy(tau), which keeps most dimensions nearly irrelevant
// (long lengthscales) unless the data insist. BoTorch's SAAS model samples tau and every
// hyper-parameter with NUTS (fully Bayesian); we differ on purpose: MAP with a fixed global
// scale tau (0.1, SAAS's hyper-prior scale), so that it costs what the default fit costs.
// An NLopt failure (roundoff, too many evaluations) is caught: the best point seen so far is
// kept and the status says what happened.
#include <Eigen/Core>

#include <cstdint>
#include <string>

#include "search/gaussian_process.h"

namespace autopeft::search {

struct LengthscalePrior {
  bool saas = false;      // false: the dimension-scaled log-normal prior above
  double saas_tau = 0.1;  // the half-Cauchy scale of rho = l^-2
};

struct GpFitOptions {
  int restarts = 4;           // random starts besides the current parameters
  int max_evaluations = 150;  // per start
  bool use_priors = true;     // MAP (true) or maximum likelihood (false)
  std::uint64_t seed = 0;     // for the random starts
  LengthscalePrior lengthscale_prior;
};

struct GpFitResult {
  double objective = 0;  // the best log posterior (or likelihood) found
  int evaluations = 0;
  std::string status;  // "ok", or the NLopt failures met (the best point is kept anyway)
};

// Fits in place: gp ends with the best parameters, conditioned on (X, y).
GpFitResult fit_hyperparameters(GaussianProcess& gp, const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                const GpFitOptions& options = {});

// The log prior and its gradient at theta, for a GP on d dimensions.
double log_prior(const Eigen::VectorXd& theta, int dims, Eigen::VectorXd* gradient,
                 const LengthscalePrior& prior = {});

}  // namespace autopeft::search
