#include "search/nehvi.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "search/ehvi.h"
#include "search/pareto.h"

namespace autopeft::search {

NoisyEhvi::NoisyEhvi(const std::vector<const GaussianProcess*>& gps, const Eigen::VectorXd& reference,
                     int samples, std::uint64_t seed)
    : gps_(gps), reference_(reference) {
  if (gps.empty() || static_cast<Eigen::Index>(gps.size()) != reference.size())
    throw std::invalid_argument("NoisyEhvi: one GP per objective and a reference coordinate each");
  const auto& X = gps.front()->inputs();
  const Eigen::Index n = X.rows(), m = reference.size();
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<Eigen::MatrixXd> sampled(static_cast<std::size_t>(m));  // per objective: S x n, minimised
  for (Eigen::Index k = 0; k < m; ++k) {
    const auto& gp = *gps[static_cast<std::size_t>(k)];
    if (gp.inputs().rows() != n)
      throw std::invalid_argument("NoisyEhvi: the GPs were fitted on different inputs");
    Eigen::VectorXd mu, var;
    gp.predict(X, mu, var);
    Eigen::MatrixXd S = gp.posterior_covariance(X, X);
    // A root of the posterior covariance, with jitter until it factorises (it is often nearly
    // singular where the noise is small).
    const double scale = std::max(1e-12, S.diagonal().mean());
    Eigen::LLT<Eigen::MatrixXd> llt;
    for (double j = 1e-9 * scale;; j *= 10) {
      Eigen::MatrixXd Sj = S;
      Sj.diagonal().array() += j;
      llt.compute(Sj);
      if (llt.info() == Eigen::Success || j > scale) break;
    }
    chol_L_.push_back(llt.matrixL());
    // For scoring: L_S^-1 (L^-1 K(X, X))^T, so that a batch costs O(n^2) per candidate, not O(n^3).
    const Eigen::MatrixXd Vx = gp.whiten(X);
    whitened_x_.push_back(chol_L_.back().triangularView<Eigen::Lower>().solve(Vx.transpose()));
    Eigen::MatrixXd Z(samples, n);
    Eigen::VectorXd z_new(samples);
    for (int s = 0; s < samples; ++s) {
      for (Eigen::Index i = 0; i < n; ++i) Z(s, i) = normal(rng);
      z_new[s] = normal(rng);
    }
    // Samples of the objective (larger is better), negated into the minimised space.
    sampled[static_cast<std::size_t>(k)] = -((Z * chol_L_.back().transpose()).rowwise() + mu.transpose());
    z_.push_back(std::move(Z));
    z_new_.push_back(std::move(z_new));
  }
  for (int s = 0; s < samples; ++s) {
    Eigen::MatrixXd points(n, m);
    for (Eigen::Index k = 0; k < m; ++k)
      points.col(k) = sampled[static_cast<std::size_t>(k)].row(s).transpose();
    Eigen::MatrixXd front = front_inside(points, reference_);
    hv0_.push_back(hypervolume(front, reference_));
    fronts_.push_back(std::move(front));
  }
}

Eigen::VectorXd NoisyEhvi::operator()(const Eigen::MatrixXd& U) const {
  const Eigen::Index c = U.rows(), m = reference_.size();
  const auto S = static_cast<Eigen::Index>(fronts_.size());
  const auto& X = gps_.front()->inputs();
  std::vector<Eigen::MatrixXd> values(static_cast<std::size_t>(m));  // per objective: S x c, minimised
  for (Eigen::Index k = 0; k < m; ++k) {
    const auto& gp = *gps_[static_cast<std::size_t>(k)];
    Eigen::VectorXd mu, var;
    gp.predict(U, mu, var);
    // W = L_S^-1 Cov(f(X), f(U)) = L_S^-1 (k(X, U) - Vx^T Vu) with Vx, Vu whitened by the GP's K.
    const auto& L = chol_L_[static_cast<std::size_t>(k)];
    const Eigen::MatrixXd W = L.triangularView<Eigen::Lower>().solve(gp.prior_covariance(X, U)) -
                              whitened_x_[static_cast<std::size_t>(k)] * gp.whiten(U);
    const Eigen::ArrayXd rest = (var.array() - W.colwise().squaredNorm().transpose().array()).max(0.0).sqrt();
    Eigen::MatrixXd f = z_[static_cast<std::size_t>(k)] * W;  // S x c
    f += z_new_[static_cast<std::size_t>(k)] * rest.matrix().transpose();
    f.rowwise() += mu.transpose();
    values[static_cast<std::size_t>(k)] = -f;
  }
  Eigen::VectorXd out = Eigen::VectorXd::Zero(c);
  for (Eigen::Index s = 0; s < S; ++s) {
    const auto& front = fronts_[static_cast<std::size_t>(s)];
    Eigen::MatrixXd with(front.rows() + 1, m);
    with.topRows(front.rows()) = front;
    for (Eigen::Index i = 0; i < c; ++i) {
      Eigen::VectorXd z(m);
      for (Eigen::Index k = 0; k < m; ++k) z[k] = values[static_cast<std::size_t>(k)](s, i);
      out[i] += hypervolume_improvement(front, hv0_[static_cast<std::size_t>(s)], z, reference_, with);
    }
  }
  return S > 0 ? Eigen::VectorXd(out / static_cast<double>(S)) : out;
}

}  // namespace autopeft::search
