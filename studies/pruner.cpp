#include "studies/pruner.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "core/json_fields.h"

namespace autopeft::studies {

PrunerOptions PrunerOptions::from_json(const nlohmann::json& j, const std::string& where) {
  PrunerOptions o;
  if (j.is_null()) return o;
  JsonFields f(j, where);
  f.read("type", o.type);
  f.read("startup_trials", o.startup_trials);
  f.read("warmup_steps", o.warmup_steps);
  f.read("min_steps", o.min_steps);
  f.read("eta", o.eta);
  f.finish();
  if (o.type != "none" && o.type != "median" && o.type != "asha")
    throw_user_error(where + ".type", "'" + o.type + "' is not none, median or asha");
  if (o.min_steps < 1) throw_user_error(where + ".min_steps", "must be >= 1");
  if (!(o.eta > 1)) throw_user_error(where + ".eta", "must be > 1");
  return o;
}

nlohmann::json PrunerOptions::to_json() const {
  return {{"type", type},
          {"startup_trials", startup_trials},
          {"warmup_steps", warmup_steps},
          {"min_steps", min_steps},
          {"eta", eta}};
}

namespace {

// The curve's last value at or before `step`; NaN when it has none.
double value_at(const Curve& c, std::int64_t step) {
  double v = std::nan("");
  for (const auto& [s, x] : c) {
    if (s > step) break;
    v = x;
  }
  return v;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

bool should_prune(const PrunerOptions& o, const Curve& current, const std::vector<Curve>& others,
                  std::int64_t finished_trials) {
  if (o.type == "none" || current.empty()) return false;
  const auto step = current.back().first;
  if (o.type == "median") {
    if (finished_trials < o.startup_trials || step < o.warmup_steps) return false;
    double best = -std::numeric_limits<double>::infinity();
    for (const auto& [s, x] : current) best = std::max(best, x);
    std::vector<double> at;
    for (const auto& c : others) {
      const double v = value_at(c, step);
      if (!std::isnan(v)) at.push_back(v);
    }
    if (at.empty()) return false;
    return best < median(at);
  }
  // asha: the highest rung the trial has reached
  std::int64_t rung = -1;
  double rung_step = static_cast<double>(o.min_steps);
  for (std::int64_t k = 0; rung_step <= static_cast<double>(step); ++k, rung_step *= o.eta) rung = k;
  if (rung < 0) return false;
  const auto rs =
      static_cast<std::int64_t>(std::llround(static_cast<double>(o.min_steps) * std::pow(o.eta, rung)));
  const double mine = value_at(current, rs);
  if (std::isnan(mine)) return false;  // no value at or before the rung: nothing to compare
  std::vector<double> at;
  for (const auto& c : others) {
    // Curves that passed the rung without a value at or before it have no rung value (a NaN
    // would also break the sort's ordering).
    if (c.empty() || c.back().first < rs) continue;
    const double v = value_at(c, rs);
    if (!std::isnan(v)) at.push_back(v);
  }
  at.push_back(mine);
  std::sort(at.begin(), at.end(), std::greater<>());
  const auto keep =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(static_cast<double>(at.size()) / o.eta)));
  return mine < at[keep - 1];
}

}  // namespace autopeft::studies
