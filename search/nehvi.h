#pragma once
// Monte-Carlo noisy expected hypervolume improvement (NEHVI, Daulton et al. 2021), for any
// number of objectives (minimisation), one GP per objective. Observed values are noisy, so the
// front is not known: each of S joint posterior samples of the objectives at the GP's inputs (the
// observed points and any pending ones) has its own front, the non-dominated subset of its
// sampled values inside the reference box. A candidate's score is the mean over the samples of
// the hypervolume its value in that sample adds to that sample's front.
//
// The samples at the inputs X are drawn once per proposal, f_X = mu_X + L z (L L^T the posterior
// covariance at X); a candidate's value is drawn conditioned on them through the same normals,
//   f_x = mu_x + w . z + sqrt(v_x - |w|^2) z',  L w = Sigma(X, x),
// so every candidate is scored on the same S fronts (common random numbers, as BoTorch caches the
// root decomposition). The GPs model objectives where larger is better (the controller's
// standardised values); this class negates them.
#include <Eigen/Core>

#include <cstdint>
#include <vector>

#include "search/gaussian_process.h"

namespace autopeft::search {

class NoisyEhvi {
 public:
  // `gps`: one per objective, each fitted on the same inputs; `reference`: in the minimised
  // space (negated GP units); `samples`: S.
  NoisyEhvi(const std::vector<const GaussianProcess*>& gps, const Eigen::VectorXd& reference, int samples,
            std::uint64_t seed);
  // The score of every row of U (encoded candidates).
  Eigen::VectorXd operator()(const Eigen::MatrixXd& U) const;
  // The sampled front of sample s (rows: points, minimised space), for tests.
  const Eigen::MatrixXd& front(int s) const { return fronts_[static_cast<std::size_t>(s)]; }
  double front_hypervolume(int s) const { return hv0_[static_cast<std::size_t>(s)]; }

 private:
  std::vector<const GaussianProcess*> gps_;
  Eigen::VectorXd reference_;
  std::vector<Eigen::MatrixXd> chol_L_;      // per objective: L of the posterior covariance at X
  std::vector<Eigen::MatrixXd> whitened_x_;  // per objective: L^-1 (GP-whitened K(X, X))^T
  std::vector<Eigen::MatrixXd> z_;           // per objective: S x n normals
  std::vector<Eigen::VectorXd> z_new_;       // per objective: S normals for the candidate's own part
  std::vector<Eigen::MatrixXd> fronts_;      // per sample
  std::vector<double> hv0_;                  // per sample
};

}  // namespace autopeft::search
