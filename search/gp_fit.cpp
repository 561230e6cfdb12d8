#include "search/gp_fit.h"

#include <cmath>
#include <limits>
#include <nlopt.hpp>
#include <random>

namespace autopeft::search {

namespace {
struct Gaussian {
  double mu, sigma;
  double log_pdf(double x, double* dx) const {
    const double z = (x - mu) / sigma;
    if (dx) *dx = -z / sigma;
    return -0.5 * z * z - std::log(sigma) - 0.5 * std::log(2 * M_PI);
  }
};

Gaussian prior_of(int index, int dims) {
  if (index < dims) return {std::sqrt(2.0) + 0.5 * std::log(static_cast<double>(dims)), std::sqrt(3.0)};
  if (index == dims) return {0.0, 2.0};       // log s2
  if (index == dims + 1) return {-4.0, 1.0};  // log noise
  return {0.0, 1.0};                          // mean
}

// SAAS (Eriksson & Jankowiak 2021) puts a half-Cauchy(tau) prior on each inverse squared
// lengthscale rho = l^-2. In u = log l: rho = exp(-2u), |d rho / du| = 2 rho, so
//   log p(u) = log(4 / (pi tau)) - log(1 + (rho / tau)^2) + log rho,
//   d/du     = 4 rho^2 / (tau^2 + rho^2) - 2.
double saas_log_pdf(double u, double tau, double* du) {
  const double rho = std::exp(-2.0 * u);
  if (du) *du = 4.0 * rho * rho / (tau * tau + rho * rho) - 2.0;
  return std::log(4.0 / (M_PI * tau)) - std::log1p((rho / tau) * (rho / tau)) + std::log(rho);
}

void bounds(int dims, std::vector<double>& lo, std::vector<double>& hi) {
  lo.assign(static_cast<std::size_t>(dims + 3), 0.0);
  hi = lo;
  for (int i = 0; i < dims; ++i) {
    lo[static_cast<std::size_t>(i)] = std::log(1e-3);
    hi[static_cast<std::size_t>(i)] = std::log(1e3);
  }
  lo[static_cast<std::size_t>(dims)] = std::log(1e-3);
  hi[static_cast<std::size_t>(dims)] = std::log(1e3);
  lo[static_cast<std::size_t>(dims + 1)] = std::log(1e-8);
  hi[static_cast<std::size_t>(dims + 1)] = std::log(1.0);
  lo[static_cast<std::size_t>(dims + 2)] = -5.0;
  hi[static_cast<std::size_t>(dims + 2)] = 5.0;
}
}  // namespace

double log_prior(const Eigen::VectorXd& theta, int dims, Eigen::VectorXd* gradient,
                 const LengthscalePrior& prior) {
  double lp = 0;
  if (gradient) gradient->resize(theta.size());
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    double d = 0;
    lp += prior.saas && i < dims ? saas_log_pdf(theta[i], prior.saas_tau, &d)
                                 : prior_of(static_cast<int>(i), dims).log_pdf(theta[i], &d);
    if (gradient) (*gradient)[i] = d;
  }
  return lp;
}

GpFitResult fit_hyperparameters(GaussianProcess& gp, const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                const GpFitOptions& options) {
  const int dims = gp.kernel().dims();
  const int p = gp.num_params();
  std::vector<double> lo, hi;
  bounds(dims, lo, hi);
  GpFitResult result;
  result.objective = -std::numeric_limits<double>::infinity();
  Eigen::VectorXd best = gp.params();
  std::string failures;

  struct Context {
    GaussianProcess* gp;
    const Eigen::MatrixXd* X;
    const Eigen::VectorXd* y;
    bool priors;
    LengthscalePrior prior;
    int dims;
    int evaluations = 0;
    double best = -std::numeric_limits<double>::infinity();
    Eigen::VectorXd best_theta;
  } ctx{&gp, &X, &y, options.use_priors, options.lengthscale_prior, dims, 0, result.objective, best};

  const auto objective = [](const std::vector<double>& x, std::vector<double>& grad, void* data) -> double {
    auto& c = *static_cast<Context*>(data);
    ++c.evaluations;
    const Eigen::VectorXd theta =
        Eigen::Map<const Eigen::VectorXd>(x.data(), static_cast<Eigen::Index>(x.size()));
    double value;
    Eigen::VectorXd g;
    try {
      c.gp->set_params(theta);  // refits on (X, y), which the GP holds from the start
      value = c.gp->log_marginal_likelihood();
      g = c.gp->log_marginal_likelihood_gradient();
    } catch (const std::runtime_error&) {
      if (!grad.empty()) std::fill(grad.begin(), grad.end(), 0.0);
      return -1e300;  // not factorisable: the worst value
    }
    if (c.priors) {
      Eigen::VectorXd pg;
      value += log_prior(theta, c.dims, &pg, c.prior);
      g += pg;
    }
    if (!std::isfinite(value)) value = -1e300;
    if (!grad.empty())
      for (std::size_t i = 0; i < grad.size(); ++i)
        grad[i] = std::isfinite(g[static_cast<Eigen::Index>(i)]) ? g[static_cast<Eigen::Index>(i)] : 0.0;
    if (value > c.best) {
      c.best = value;
      c.best_theta = theta;
    }
    return value;
  };

  try {
    gp.fit(X, y);  // holds (X, y) from now on, even when these parameters do not factorise
  } catch (const std::runtime_error&) {
  }
  std::mt19937_64 rng(options.seed);
  for (int start = 0; start <= options.restarts; ++start) {
    std::vector<double> x(static_cast<std::size_t>(p));
    if (start == 0) {
      const Eigen::VectorXd t = gp.params();
      for (int i = 0; i < p; ++i)
        x[static_cast<std::size_t>(i)] =
            std::clamp(t[i], lo[static_cast<std::size_t>(i)], hi[static_cast<std::size_t>(i)]);
    } else {
      for (int i = 0; i < p; ++i) {
        double v;
        if (options.lengthscale_prior.saas && i < dims) {  // rho ~ half-Cauchy(tau), l = rho^-1/2
          std::cauchy_distribution<double> cauchy(0.0, options.lengthscale_prior.saas_tau);
          v = -0.5 * std::log(std::max(1e-12, std::abs(cauchy(rng))));
        } else {
          const auto prior = prior_of(i, dims);
          std::normal_distribution<double> n(prior.mu, prior.sigma);
          v = n(rng);
        }
        x[static_cast<std::size_t>(i)] =
            std::clamp(v, lo[static_cast<std::size_t>(i)], hi[static_cast<std::size_t>(i)]);
      }
    }
    nlopt::opt opt(nlopt::LD_LBFGS, static_cast<unsigned>(p));
    opt.set_lower_bounds(lo);
    opt.set_upper_bounds(hi);
    opt.set_max_objective(objective, &ctx);
    opt.set_maxeval(options.max_evaluations);
    opt.set_ftol_rel(1e-9);
    double value = 0;
    try {
      opt.optimize(x, value);
    } catch (const std::exception& e) {  // nlopt::roundoff_limited and friends: keep the best point
      failures +=
          std::string(failures.empty() ? "" : "; ") + "start " + std::to_string(start) + ": " + e.what();
    }
  }
  result.evaluations = ctx.evaluations;
  result.objective = ctx.best;
  result.status = failures.empty() ? "ok" : failures;
  gp.set_params(ctx.best_theta);
  gp.fit(X, y);
  return result;
}

}  // namespace autopeft::search
