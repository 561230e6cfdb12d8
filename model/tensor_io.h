#pragma once
// safetensors <-> LibTorch tensors.
#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "model/format/safetensors.h"

namespace autopeft::model {

torch::ScalarType to_scalar_type(DType dtype);
// Throws UserError for a tensor type safetensors (as we support it) cannot hold.
DType to_dtype(torch::ScalarType type, const std::string& where);

// A CPU tensor holding a copy of the entry's bytes.
torch::Tensor read_tensor(const SafetensorsFile& file, const TensorInfo& info);

// Every tensor of a safetensors file, by name.
std::map<std::string, torch::Tensor> load_safetensors(const std::string& path);

// Writes named tensors (any device; copied to contiguous CPU) with {"format": "pt"} metadata.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace autopeft::model
