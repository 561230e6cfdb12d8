#pragma once
// What the torch-free side knows of each PEFT method: its name, how to validate and normalise
// its per-layer options, and its closed-form parameter counts. The torch side (peft/) builds the
// modules; both iterate one registry, so adding a method is one file pair here, one there, and a
// line in each registry.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "peft/spec/model_dims.h"

namespace autopeft::peft {

struct Counts {
  std::int64_t trainable = 0;  // every parameter the method adds that trains
  std::int64_t stored = 0;     // what the exported adapter keeps (e.g. a prefix as its ejected table)
  Counts& operator+=(const Counts& o) {
    trainable += o.trainable;
    stored += o.stored;
    return *this;
  }
};

// How the per-layer search space (peft/spec/search_spaces.h) varies a method: one ordinal size
// option per layer (0 = no module), the other options fixed.
struct SearchDimension {
  std::string option;                // e.g. "size", "r", "length"
  std::vector<std::int64_t> values;  // the choices, 0 first
  nlohmann::json fixed;              // options that go with every non-zero choice
};

class MethodSpec {
 public:
  virtual ~MethodSpec() = default;
  virtual std::string name() const = 0;     // the key in a layer's config, e.g. "lora"
  virtual std::string summary() const = 0;  // one line for --help and docs
  // Model-level methods (prompt tuning, P-tuning) act on the input embeddings once, not per
  // layer; a config lists them under "embeddings".
  virtual bool model_level() const { return false; }
  // Validates the options of one layer and returns them with every default filled in. Errors are
  // UserError naming `where` plus the field (e.g. "layers.3.lora.r").
  virtual nlohmann::json normalise(const nlohmann::json& options, const std::string& where,
                                   const ModelDims& dims) const = 0;
  // Options for tests and docs: a typical, non-trivial configuration of one layer.
  virtual nlohmann::json example() const = 0;
  // Options whose modules start as the identity (zero-initialised outputs, scales of 1), so the
  // model's output equals the base model's; null where the method cannot (prefix: softmax).
  virtual nlohmann::json identity_example() const = 0;
  // The method's dimension in the per-layer search space; none (the default) keeps the method
  // out of that space.
  virtual std::optional<SearchDimension> search_dimension(const ModelDims& /*dims*/) const {
    return std::nullopt;
  }
  // Closed-form counts of this method's modules in one layer (normalised options).
  virtual Counts layer_counts(const nlohmann::json& options, const ModelDims& dims) const = 0;
  // Parameters shared by the layers that use the method (e.g. the prefix MLP), given every such
  // layer's index and options in layer order; zero for most methods.
  virtual Counts shared_counts(const std::vector<std::pair<std::int64_t, nlohmann::json>>& /*layers*/,
                               const nlohmann::json& /*globals*/, const ModelDims& /*dims*/) const {
    return {};
  }
};

// The registry of methods, filled once (explicitly, in peft/spec/registry.cpp).
class MethodRegistry {
 public:
  static const MethodRegistry& instance();
  const MethodSpec* find(const std::string& name) const;
  // Throws UserError naming `where` and listing the known methods.
  const MethodSpec& get(const std::string& name, const std::string& where) const;
  std::vector<std::string> names() const;
  void add(std::unique_ptr<MethodSpec> spec);

 private:
  std::vector<std::unique_ptr<MethodSpec>> specs_;
};

// Helpers for method specs: read a field with a default, checking its type; errors name
// where.field.
std::int64_t option_int(const nlohmann::json& o, const char* key, std::int64_t fallback,
                        const std::string& where, std::int64_t min, std::int64_t max);
double option_double(const nlohmann::json& o, const char* key, double fallback, const std::string& where,
                     double min, double max);
bool option_bool(const nlohmann::json& o, const char* key, bool fallback, const std::string& where);
std::string option_choice(const nlohmann::json& o, const char* key, const std::string& fallback,
                          const std::vector<std::string>& choices, const std::string& where);
// Rejects keys other than `allowed`.
void only_keys(const nlohmann::json& o, const std::vector<std::string>& allowed, const std::string& where);

}  // namespace autopeft::peft
