#include "model/tensor_io.h"

#include <torch/torch.h>

#include "core/errors.h"

namespace autopeft::model {

torch::ScalarType to_scalar_type(DType dtype) {
  switch (dtype) {
    case DType::F64: return torch::kFloat64;
    case DType::F32: return torch::kFloat32;
    case DType::F16: return torch::kFloat16;
    case DType::BF16: return torch::kBFloat16;
    case DType::I64: return torch::kInt64;
    case DType::I32: return torch::kInt32;
    case DType::I16: return torch::kInt16;
    case DType::I8: return torch::kInt8;
    case DType::U8: return torch::kUInt8;
    case DType::BOOL: return torch::kBool;
  }
  return torch::kFloat32;
}

DType to_dtype(torch::ScalarType type, const std::string& where) {
  switch (type) {
    case torch::kFloat64: return DType::F64;
    case torch::kFloat32: return DType::F32;
    case torch::kFloat16: return DType::F16;
    case torch::kBFloat16: return DType::BF16;
    case torch::kInt64: return DType::I64;
    case torch::kInt32: return DType::I32;
    case torch::kInt16: return DType::I16;
    case torch::kInt8: return DType::I8;
    case torch::kUInt8: return DType::U8;
    case torch::kBool: return DType::BOOL;
    default: throw_user_error(where, std::string("cannot store tensors of type ") + c10::toString(type));
  }
}

torch::Tensor read_tensor(const SafetensorsFile& file, const TensorInfo& info) {
  const auto type = to_scalar_type(info.dtype);
  auto out = torch::empty(info.shape, torch::TensorOptions().dtype(type));
  if (info.nbytes() > 0) std::memcpy(out.data_ptr(), file.data(info), info.nbytes());
  return out;
}

std::map<std::string, torch::Tensor> load_safetensors(const std::string& path) {
  SafetensorsFile file(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& info : file.tensors()) out[info.name] = read_tensor(file, info);
  return out;
}

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<torch::Tensor> keep;
  std::vector<TensorBytes> bytes;
  keep.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    keep.push_back(t.detach().to(torch::kCPU).contiguous());
    const auto& c = keep.back();
    bytes.push_back({name, to_dtype(c.scalar_type(), path + ": tensor '" + name + "'"),
                     std::vector<std::int64_t>(c.sizes().begin(), c.sizes().end()), c.data_ptr(),
                     static_cast<std::size_t>(c.nbytes())});
  }
  write_safetensors(path, bytes, metadata);
}

}  // namespace autopeft::model
