#pragma once
// The weight files of a Hugging Face model folder: model.safetensors, or shards listed by
// model.safetensors.index.json. A folder with only pytorch_model.bin gets an error that says how
// to convert it. Torch-free.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/format/safetensors.h"

namespace autopeft::model {

class CheckpointFiles {
 public:
  // Opens every weight file of `dir` (memory-mapped) and indexes their tensors by name.
  explicit CheckpointFiles(const std::string& dir);

  struct Entry {
    const SafetensorsFile* file = nullptr;
    const TensorInfo* info = nullptr;
  };
  const std::map<std::string, Entry>& tensors() const { return tensors_; }
  const Entry* find(const std::string& name) const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Entry> tensors_;
};

}  // namespace autopeft::model
