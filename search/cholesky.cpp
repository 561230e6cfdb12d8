#include "search/cholesky.h"

#include <Eigen/Core>
#include <stdexcept>

extern "C" {
// LAPACK (Fortran calling convention).
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info);
}

namespace autopeft::search {

bool Cholesky::compute(const Eigen::MatrixXd& A) {
  if (A.rows() != A.cols()) throw std::invalid_argument("Cholesky: the matrix is not square");
  L_ = A;
  const int n = static_cast<int>(A.rows());
  int info = 0;
  if (n > 0) dpotrf_("L", &n, L_.data(), &n, &info);
  if (info != 0) {
    L_.resize(0, 0);
    return false;
  }
  L_.triangularView<Eigen::StrictlyUpper>().setZero();
  return true;
}

Eigen::VectorXd Cholesky::solve(const Eigen::VectorXd& b) const {
  const auto L = L_.triangularView<Eigen::Lower>();
  return L.transpose().solve(L.solve(b));
}

Eigen::MatrixXd Cholesky::solve_lower(const Eigen::MatrixXd& B) const {
  return L_.triangularView<Eigen::Lower>().solve(B);
}

Eigen::MatrixXd Cholesky::inverse() const {
  Eigen::MatrixXd inv = L_;
  const int n = static_cast<int>(L_.rows());
  int info = 0;
  if (n > 0) dpotri_("L", &n, inv.data(), &n, &info);
  if (info != 0) throw std::runtime_error("Cholesky::inverse: dpotri failed");
  inv.triangularView<Eigen::StrictlyUpper>() = inv.transpose();
  return inv;
}

}  // namespace autopeft::search
