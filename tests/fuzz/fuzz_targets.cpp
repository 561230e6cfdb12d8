#include "tests/fuzz/fuzz_targets.h"

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "model/format/model_config.h"
#include "model/format/safetensors.h"

namespace autopeft::fuzz {

void safetensors_header(const std::uint8_t* data, std::size_t size) {
  try {
    const auto h = model::parse_safetensors_header(data, size, size, "fuzz");
    // Every accepted entry lies inside the input.
    for (const auto& t : h.tensors)
      if (h.data_start() + t.end > size) __builtin_trap();
  } catch (const UserError&) {
  }
}

void encoder_config(const std::uint8_t* data, std::size_t size) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return;
  }
  try {
    const auto c = model::parse_encoder_config(j, "fuzz");
    if (c.hidden_size % c.num_heads != 0) __builtin_trap();
  } catch (const UserError&) {
  }
}

}  // namespace autopeft::fuzz
