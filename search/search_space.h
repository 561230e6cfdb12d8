#pragma once
// Typed search spaces and their encoding to [0, 1]^D for the GP.
// JSON form (a list of dimensions; the study spec uses the same):
//   {"name": "x0", "type": "float", "low": 0, "high": 1, "log": false}
//   {"name": "k", "type": "int", "low": 0, "high": 10}
//   {"name": "s", "type": "ordinal", "values": [0, 1, 2, 4, 8]}
//   {"name": "m", "type": "categorical", "choices": ["a", "b"]}
//   {"name": "on", "type": "bool"}
//   {"name": "r", "type": "int", "low": 1, "high": 16, "active_if": {"on": true}}
// Encoding: float (linear, or log when "log"), int and ordinal (by index) scaled to [0, 1]; bool
// 0/1; categorical one-hot. A dimension whose active_if does not hold is absent from the
// parameters and encoded as 0, so it does not move the GP. Decoding rounds to the nearest
// admissible value. Torch-free.
#include <Eigen/Core>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace autopeft::search {

enum class DimType { real, integer, ordinal, categorical, boolean };

struct Dimension {
  std::string name;
  DimType type = DimType::real;
  double low = 0, high = 1;          // real, integer
  bool log = false;                  // real, integer: log scale (low > 0)
  std::vector<double> values;        // ordinal, ascending
  std::vector<std::string> choices;  // categorical
  nlohmann::json active_if;          // null, or {"other": value, ...} (all must hold)
  int width() const { return type == DimType::categorical ? static_cast<int>(choices.size()) : 1; }
};

class SearchSpace {
 public:
  static SearchSpace from_json(const nlohmann::json& dims, const std::string& source);
  nlohmann::json to_json() const;

  const std::vector<Dimension>& dimensions() const { return dims_; }
  int encoded_size() const;
  bool active(const Dimension& d, const nlohmann::json& params) const;

  // Checks a parameter object: every active dimension present with an admissible value, no
  // inactive or unknown ones. UserError naming `where` and the dimension.
  void validate(const nlohmann::json& params, const std::string& where) const;
  Eigen::VectorXd encode(const nlohmann::json& params) const;
  nlohmann::json decode(const Eigen::VectorXd& u) const;
  // A point from one uniform coordinate in [0, 1) per dimension (dimensions().size() of them),
  // each value equally likely: floats (log-)uniform, ints, ordinals and categories by equal
  // shares, bools by halves. (decode() rounds to the nearest value, which would give the end
  // values of an ordinal half the share of the others.) Inactive dimensions skip theirs.
  nlohmann::json from_unit(const Eigen::VectorXd& q) const;
  nlohmann::json sample(std::mt19937_64& rng) const;  // from_unit of uniform coordinates
  // A neighbour of `params`: one active dimension, chosen uniformly, moves one step (ints and
  // ordinals to an adjacent value, a bool flips, a categorical takes another choice, a float moves
  // by N(0, (range/10)^2), on the log scale where "log"); dimensions that become active get a
  // uniform value, those that become inactive are dropped.
  nlohmann::json neighbour(const nlohmann::json& params, std::mt19937_64& rng) const;

 private:
  std::vector<Dimension> dims_;
  int index_of(const std::string& name) const;
};

}  // namespace autopeft::search
