#include "search/search_space.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "core/errors.h"

namespace autopeft::search {

namespace {
const char* type_name(DimType t) {
  switch (t) {
    case DimType::real: return "float";
    case DimType::integer: return "int";
    case DimType::ordinal: return "ordinal";
    case DimType::categorical: return "categorical";
    case DimType::boolean: return "bool";
  }
  return "?";
}

double number(const nlohmann::json& d, const char* key, const std::string& where) {
  if (!d.contains(key) || !d[key].is_number()) throw_user_error(where + "." + key, "required number");
  return d[key].get<double>();
}
}  // namespace

int SearchSpace::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < dims_.size(); ++i)
    if (dims_[i].name == name) return static_cast<int>(i);
  return -1;
}

SearchSpace SearchSpace::from_json(const nlohmann::json& list, const std::string& source) {
  if (!list.is_array() || list.empty())
    throw_user_error(source, "a search space is a non-empty list of dimensions");
  SearchSpace s;
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& d = list[i];
    std::string where = source + "[" + std::to_string(i) + "]";
    if (!d.is_object() || !d.contains("name") || !d["name"].is_string())
      throw_user_error(where, "a dimension needs a \"name\"");
    Dimension dim;
    dim.name = d["name"].get<std::string>();
    where = source + "." + dim.name;
    if (!names.insert(dim.name).second) throw_user_error(where, "dimension named twice");
    const std::string type = d.value("type", std::string());
    if (type == "float" || type == "int") {
      dim.type = type == "float" ? DimType::real : DimType::integer;
      dim.low = number(d, "low", where);
      dim.high = number(d, "high", where);
      dim.log = d.value("log", false);
      if (!(dim.low < dim.high)) throw_user_error(where, "needs low < high");
      if (dim.log && dim.low <= 0) throw_user_error(where + ".log", "a log scale needs low > 0");
      if (dim.type == DimType::integer &&
          (dim.low != std::floor(dim.low) || dim.high != std::floor(dim.high)))
        throw_user_error(where, "int bounds must be integers");
    } else if (type == "ordinal") {
      dim.type = DimType::ordinal;
      if (!d.contains("values") || !d["values"].is_array() || d["values"].size() < 2)
        throw_user_error(where + ".values", "needs at least two numbers");
      for (const auto& v : d["values"]) {
        if (!v.is_number()) throw_user_error(where + ".values", "must be numbers");
        dim.values.push_back(v.get<double>());
      }
      if (!std::is_sorted(dim.values.begin(), dim.values.end()) ||
          std::adjacent_find(dim.values.begin(), dim.values.end()) != dim.values.end())
        throw_user_error(where + ".values", "must ascend strictly");
    } else if (type == "categorical") {
      dim.type = DimType::categorical;
      if (!d.contains("choices") || !d["choices"].is_array() || d["choices"].size() < 2)
        throw_user_error(where + ".choices", "needs at least two strings");
      for (const auto& c : d["choices"])
        dim.choices.push_back(c.is_string() ? c.get<std::string>() : c.dump());
    } else if (type == "bool") {
      dim.type = DimType::boolean;
    } else {
      throw_user_error(where + ".type",
                       "'" + type + "' is not one of float, int, ordinal, categorical, bool");
    }
    if (d.contains("active_if")) {
      if (!d["active_if"].is_object() || d["active_if"].empty())
        throw_user_error(where + ".active_if", "must be an object of dimension -> value");
      for (auto it = d["active_if"].begin(); it != d["active_if"].end(); ++it)
        if (s.index_of(it.key()) < 0)
          throw_user_error(where + ".active_if." + it.key(), "names no earlier dimension");
      dim.active_if = d["active_if"];
    }
    s.dims_.push_back(std::move(dim));
  }
  return s;
}

nlohmann::json SearchSpace::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : dims_) {
    nlohmann::json j = {{"name", d.name}, {"type", type_name(d.type)}};
    if (d.type == DimType::real || d.type == DimType::integer) {
      j["low"] = d.low;
      j["high"] = d.high;
      if (d.log) j["log"] = true;
    }
    if (d.type == DimType::ordinal) j["values"] = d.values;
    if (d.type == DimType::categorical) j["choices"] = d.choices;
    if (!d.active_if.is_null()) j["active_if"] = d.active_if;
    out.push_back(j);
  }
  return out;
}

int SearchSpace::encoded_size() const {
  int n = 0;
  for (const auto& d : dims_) n += d.width();
  return n;
}

bool SearchSpace::active(const Dimension& d, const nlohmann::json& params) const {
  if (d.active_if.is_null()) return true;
  for (auto it = d.active_if.begin(); it != d.active_if.end(); ++it) {
    if (!params.contains(it.key())) return false;
    const auto& v = params[it.key()];
    if (v != it.value() &&
        !(v.is_number() && it.value().is_number() && v.get<double>() == it.value().get<double>()))
      return false;
  }
  return true;
}

void SearchSpace::validate(const nlohmann::json& params, const std::string& where) const {
  if (!params.is_object()) throw_user_error(where, "parameters must be an object");
  for (auto it = params.begin(); it != params.end(); ++it)
    if (index_of(it.key()) < 0)
      throw_user_error(where + "." + it.key(), "not a dimension of the search space");
  for (const auto& d : dims_) {
    const std::string w = where + "." + d.name;
    if (!active(d, params)) {
      if (params.contains(d.name))
        throw_user_error(w, "inactive here (" + d.active_if.dump() + "), so it must be absent");
      continue;
    }
    if (!params.contains(d.name)) throw_user_error(w, "missing");
    const auto& v = params[d.name];
    switch (d.type) {
      case DimType::real:
      case DimType::integer: {
        if (!v.is_number()) throw_user_error(w, "must be a number, got " + v.dump());
        const double x = v.get<double>();
        if (x < d.low || x > d.high)
          throw_user_error(
              w, v.dump() + " outside [" + std::to_string(d.low) + ", " + std::to_string(d.high) + "]");
        if (d.type == DimType::integer && x != std::floor(x)) throw_user_error(w, "must be an integer");
        break;
      }
      case DimType::ordinal:
        if (!v.is_number() || std::find(d.values.begin(), d.values.end(), v.get<double>()) == d.values.end())
          throw_user_error(w, v.dump() + " is not one of its values");
        break;
      case DimType::categorical:
        if (!v.is_string() ||
            std::find(d.choices.begin(), d.choices.end(), v.get<std::string>()) == d.choices.end())
          throw_user_error(w, v.dump() + " is not one of its choices");
        break;
      case DimType::boolean:
        if (!v.is_boolean()) throw_user_error(w, "must be true or false");
        break;
    }
  }
}

Eigen::VectorXd SearchSpace::encode(const nlohmann::json& params) const {
  Eigen::VectorXd u = Eigen::VectorXd::Zero(encoded_size());
  int k = 0;
  for (const auto& d : dims_) {
    const int w = d.width();
    if (active(d, params) && params.contains(d.name)) {
      const auto& v = params[d.name];
      switch (d.type) {
        case DimType::real:
        case DimType::integer: {
          const double x = v.get<double>();
          u[k] = d.log ? (std::log(x) - std::log(d.low)) / (std::log(d.high) - std::log(d.low))
                       : (x - d.low) / (d.high - d.low);
          break;
        }
        case DimType::ordinal: {
          const auto idx = std::find(d.values.begin(), d.values.end(), v.get<double>()) - d.values.begin();
          u[k] = static_cast<double>(idx) / static_cast<double>(d.values.size() - 1);
          break;
        }
        case DimType::categorical: {
          const auto idx =
              std::find(d.choices.begin(), d.choices.end(), v.get<std::string>()) - d.choices.begin();
          u[k + static_cast<int>(idx)] = 1.0;
          break;
        }
        case DimType::boolean: u[k] = v.get<bool>() ? 1.0 : 0.0; break;
      }
    }
    k += w;
  }
  return u;
}

nlohmann::json SearchSpace::decode(const Eigen::VectorXd& u) const {
  nlohmann::json p = nlohmann::json::object();
  int k = 0;
  for (const auto& d : dims_) {
    const int w = d.width();
    const double x = std::clamp(u[k], 0.0, 1.0);
    if (active(d, p)) {
      switch (d.type) {
        case DimType::real:
          p[d.name] = d.log ? std::exp(std::log(d.low) + x * (std::log(d.high) - std::log(d.low)))
                            : d.low + x * (d.high - d.low);
          break;
        case DimType::integer: {
          const double raw = d.log ? std::exp(std::log(d.low) + x * (std::log(d.high) - std::log(d.low)))
                                   : d.low + x * (d.high - d.low);
          p[d.name] = static_cast<long long>(std::clamp(std::round(raw), d.low, d.high));
          break;
        }
        case DimType::ordinal: {
          const auto idx =
              static_cast<std::size_t>(std::lround(x * static_cast<double>(d.values.size() - 1)));
          const double v = d.values[idx];
          p[d.name] = v == std::floor(v) ? nlohmann::json(static_cast<long long>(v)) : nlohmann::json(v);
          break;
        }
        case DimType::categorical: {
          Eigen::Index best = 0;
          u.segment(k, w).maxCoeff(&best);
          p[d.name] = d.choices[static_cast<std::size_t>(best)];
          break;
        }
        case DimType::boolean: p[d.name] = x >= 0.5; break;
      }
    }
    k += w;
  }
  return p;
}

namespace {
// One dimension's value from a uniform coordinate, every value an equal share.
nlohmann::json value_from_unit(const Dimension& d, double x) {
  x = std::clamp(x, 0.0, 1.0);
  auto share = [x](std::size_t n) {  // floor(x n), in [0, n - 1]
    return std::min(n - 1, static_cast<std::size_t>(x * static_cast<double>(n)));
  };
  switch (d.type) {
    case DimType::real:
      return d.log ? std::exp(std::log(d.low) + x * (std::log(d.high) - std::log(d.low)))
                   : d.low + x * (d.high - d.low);
    case DimType::integer: {
      // Equal shares of [low, high + 1) (log scale: of [log low, log(high + 1))), floored.
      const double raw = d.log ? std::exp(std::log(d.low) + x * (std::log(d.high + 1) - std::log(d.low)))
                               : d.low + x * (d.high + 1 - d.low);
      return static_cast<long long>(std::clamp(std::floor(raw), d.low, d.high));
    }
    case DimType::ordinal: {
      const double v = d.values[share(d.values.size())];
      return v == std::floor(v) ? nlohmann::json(static_cast<long long>(v)) : nlohmann::json(v);
    }
    case DimType::categorical: return d.choices[share(d.choices.size())];
    case DimType::boolean: return x >= 0.5;
  }
  return nullptr;
}
}  // namespace

nlohmann::json SearchSpace::from_unit(const Eigen::VectorXd& q) const {
  if (q.size() != static_cast<Eigen::Index>(dims_.size()))
    throw std::invalid_argument("SearchSpace::from_unit: one coordinate per dimension");
  nlohmann::json p = nlohmann::json::object();
  for (std::size_t i = 0; i < dims_.size(); ++i)
    if (active(dims_[i], p)) p[dims_[i].name] = value_from_unit(dims_[i], q[static_cast<Eigen::Index>(i)]);
  return p;
}

nlohmann::json SearchSpace::neighbour(const nlohmann::json& params, std::mt19937_64& rng) const {
  std::vector<std::size_t> movable;
  for (std::size_t i = 0; i < dims_.size(); ++i)
    if (params.contains(dims_[i].name)) movable.push_back(i);
  if (movable.empty()) return params;
  const auto& d = dims_[movable[std::uniform_int_distribution<std::size_t>(0, movable.size() - 1)(rng)]];
  nlohmann::json q = params;
  auto step = [&](long long at, long long count) {  // an adjacent index in [0, count)
    if (count < 2) return at;
    if (at <= 0) return 1LL;
    if (at >= count - 1) return count - 2;
    return std::bernoulli_distribution(0.5)(rng) ? at + 1 : at - 1;
  };
  switch (d.type) {
    case DimType::real: {
      std::normal_distribution<double> g(0.0, 0.1);
      const double x = params[d.name].get<double>();
      q[d.name] = d.log ? std::exp(std::clamp(std::log(x) + g(rng) * (std::log(d.high) - std::log(d.low)),
                                              std::log(d.low), std::log(d.high)))
                        : std::clamp(x + g(rng) * (d.high - d.low), d.low, d.high);
      break;
    }
    case DimType::integer: {
      const auto x = params[d.name].get<long long>(), low = static_cast<long long>(d.low);
      q[d.name] = low + step(x - low, static_cast<long long>(d.high) - low + 1);
      break;
    }
    case DimType::ordinal: {
      const double x = params[d.name].get<double>();
      const auto at = std::lower_bound(d.values.begin(), d.values.end(), x - 1e-12) - d.values.begin();
      const double v = d.values[static_cast<std::size_t>(step(at, static_cast<long long>(d.values.size())))];
      q[d.name] = v == std::floor(v) ? nlohmann::json(static_cast<long long>(v)) : nlohmann::json(v);
      break;
    }
    case DimType::categorical: {
      const auto cur = std::find(d.choices.begin(), d.choices.end(), params[d.name].get<std::string>());
      auto k = std::uniform_int_distribution<std::size_t>(0, d.choices.size() - 2)(rng);
      if (cur != d.choices.end() && k >= static_cast<std::size_t>(cur - d.choices.begin())) ++k;
      q[d.name] = d.choices[k];
      break;
    }
    case DimType::boolean: q[d.name] = !params[d.name].get<bool>(); break;
  }
  // Activity may have changed downstream of the moved dimension.
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (const auto& e : dims_) {
    if (!active(e, q)) {
      q.erase(e.name);
    } else if (!q.contains(e.name)) {
      q[e.name] = value_from_unit(e, unit(rng));
    }
  }
  return q;
}

nlohmann::json SearchSpace::sample(std::mt19937_64& rng) const {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Eigen::VectorXd q(static_cast<Eigen::Index>(dims_.size()));
  for (Eigen::Index i = 0; i < q.size(); ++i) q[i] = unit(rng);
  return from_unit(q);
}

}  // namespace autopeft::search
