#include "search/acquisition.h"

#include <cmath>
#include <map>
#include <mutex>

#include "core/errors.h"

namespace autopeft::search {

double AcquisitionFunction::value_and_gradient(const Eigen::VectorXd& x, Eigen::VectorXd& gradient) const {
  gradient.resize(x.size());
  const double h = 1e-6;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    Eigen::VectorXd a = x, b = x;
    a[i] += h;
    b[i] -= h;
    gradient[i] = (value(a) - value(b)) / (2 * h);
  }
  return value(x);
}

namespace {
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kSqrtHalfPi = 1.25331413731550025121;                      // sqrt(pi / 2)
double log_phi(double z) { return -0.5 * z * z - 0.91893853320467274178; }  // log N(z; 0, 1)
double Phi(double z) { return 0.5 * std::erfc(-z * kInvSqrt2); }

// erfc(x) exp(x^2) for x >= 0, without overflow.
double erfcx(double x) {
  if (x < 25.0) return std::exp(x * x) * std::erfc(x);
  const double x2 = x * x;  // asymptotic series
  return (1.0 / (x * 1.7724538509055160273)) *
         (1.0 - 1.0 / (2 * x2) + 3.0 / (4 * x2 * x2) - 15.0 / (8 * x2 * x2 * x2));
}
}  // namespace

double log_h(double z, double* derivative) {
  // h(z) = phi(z) + z Phi(z); h'(z) = Phi(z).
  if (z > -5.0) {
    const double h = std::exp(log_phi(z)) + z * Phi(z);
    if (derivative) *derivative = Phi(z) / h;
    return std::log(h);
  }
  // Far below: h = phi(z) (1 + z m), m = Phi/phi = sqrt(pi/2) erfcx(-z/sqrt2) (Mills ratio).
  const double m = kSqrtHalfPi * erfcx(-z * kInvSqrt2);
  double one_plus_zm = 1.0 + z * m;
  if (z < -20.0) {  // cancellation: the asymptotic series 1 + z m = z^-2 (1 - 3 z^-2 + 15 z^-4 - ...)
    const double w = 1.0 / (z * z);
    one_plus_zm = w * (1.0 + w * (-3.0 + w * (15.0 + w * (-105.0 + w * (945.0 - 10395.0 * w)))));
  }
  if (derivative) *derivative = m / one_plus_zm;  // Phi / h
  return log_phi(z) + std::log(one_plus_zm);
}

namespace {

// Acquisitions with an analytic gradient: value() is value_and_gradient() without the gradient.
class AnalyticAcquisition : public AcquisitionFunction {
 public:
  double value(const Eigen::VectorXd& x) const override {
    Eigen::VectorXd g;
    return value_and_gradient(x, g);
  }
};

class LogEi : public AnalyticAcquisition {
 public:
  explicit LogEi(const AcquisitionContext& c) : gp_(*c.gp), best_(c.best) {}
  double value_and_gradient(const Eigen::VectorXd& x, Eigen::VectorXd& gradient) const override {
    double mu, var;
    Eigen::VectorXd dmu, dvar;
    gp_.predict_with_gradient(x, mu, var, dmu, dvar);
    const double sd = std::sqrt(std::max(var, 1e-18));
    const double z = (mu - best_) / sd;
    double dlogh = 0;
    const double value = std::log(sd) + log_h(z, &dlogh);
    // d/dx: dsd/sd + dlogh (dmu/sd - z dsd/sd), dsd = dvar / (2 sd).
    const Eigen::VectorXd dsd = dvar / (2.0 * sd);
    gradient = dsd / sd + dlogh * (dmu / sd - z * dsd / sd);
    return value;
  }

 private:
  const GaussianProcess& gp_;
  double best_;
};

class Ucb : public AnalyticAcquisition {
 public:
  explicit Ucb(const AcquisitionContext& c) : gp_(*c.gp) {
    const auto& o = c.options;
    beta_ = o.is_object() && o.contains("beta") ? o["beta"].get<double>() : 2.0;
    if (!(beta_ > 0)) throw_user_error("ucb.beta", "must be positive");
  }
  double value_and_gradient(const Eigen::VectorXd& x, Eigen::VectorXd& gradient) const override {
    double mu, var;
    Eigen::VectorXd dmu, dvar;
    gp_.predict_with_gradient(x, mu, var, dmu, dvar);
    const double sd = std::sqrt(std::max(var, 1e-18));
    gradient = dmu + std::sqrt(beta_) * dvar / (2.0 * sd);
    return mu + std::sqrt(beta_) * sd;
  }

 private:
  const GaussianProcess& gp_;
  double beta_;
};

struct Registry {
  std::vector<std::string> names;
  std::map<std::string, AcquisitionFactory> factories;
  void add(const std::string& name, AcquisitionFactory f) {
    names.push_back(name);
    factories[name] = std::move(f);
  }
};

// The single list of acquisition functions.
void register_acquisitions(Registry& r) {
  r.add("log_ei", [](const AcquisitionContext& c) { return std::make_unique<LogEi>(c); });
  r.add("ucb", [](const AcquisitionContext& c) { return std::make_unique<Ucb>(c); });
}

const Registry& registry() {
  static Registry r;
  static std::once_flag once;
  std::call_once(once, [] { register_acquisitions(r); });
  return r;
}

}  // namespace

const std::vector<std::string>& acquisition_names() { return registry().names; }

std::unique_ptr<AcquisitionFunction> make_acquisition(const std::string& name,
                                                      const AcquisitionContext& context) {
  const auto& r = registry();
  auto it = r.factories.find(name);
  if (it == r.factories.end()) {
    std::string list;
    for (const auto& n : r.names) list += (list.empty() ? "" : ", ") + n;
    throw_user_error("acquisition", "unknown acquisition '" + name + "' (known: " + list + ")");
  }
  if (!context.gp) throw std::invalid_argument("make_acquisition: no GP");
  return it->second(context);
}

}  // namespace autopeft::search
