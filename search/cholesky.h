#pragma once
// The Cholesky factorisation of the GP's kernel matrix through LAPACK (dpotrf; dpotri for the
// inverse the likelihood gradient needs), which reaches OpenBLAS through the system's
// liblapack.so.3 / libblas.so.3. At n = 500 this is 2-4x faster than Eigen's LLT and
// solve(Identity) built for baseline x86-64. Only the lower triangle is used.
#include <Eigen/Core>

namespace autopeft::search {

class Cholesky {
 public:
  // Factorises A = L L^T; false when A is not (numerically) positive definite.
  bool compute(const Eigen::MatrixXd& A);
  Eigen::Index size() const { return L_.rows(); }
  // L, with zeros above the diagonal.
  const Eigen::MatrixXd& matrixL() const { return L_; }
  Eigen::VectorXd diagonal() const { return L_.diagonal(); }
  // A^-1 b and L^-1 B.
  Eigen::VectorXd solve(const Eigen::VectorXd& b) const;
  Eigen::MatrixXd solve_lower(const Eigen::MatrixXd& B) const;
  // A^-1, full (both triangles).
  Eigen::MatrixXd inverse() const;

 private:
  Eigen::MatrixXd L_;
};

}  // namespace autopeft::search
