#include "model/format/checkpoint_files.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/errors.h"
#include "core/json_file.h"

namespace autopeft::model {

namespace fs = std::filesystem;

CheckpointFiles::CheckpointFiles(const std::string& dir) {
  if (!fs::is_directory(dir))
    throw_user_error(dir, "not a folder (a model folder holds config.json and *.safetensors)");
  const fs::path single = fs::path(dir) / "model.safetensors";
  const fs::path index = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(single)) {
    files_.push_back(std::make_unique<SafetensorsFile>(single.string()));
    for (const auto& t : files_.back()->tensors()) tensors_[t.name] = {files_.back().get(), &t};
    return;
  }
  if (fs::exists(index)) {
    const nlohmann::json j = read_json_file(index.string(), "model index");
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw_user_error(index.string(), "missing the object 'weight_map' (tensor name -> shard file)");
    std::map<std::string, const SafetensorsFile*> by_file;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string())
        throw_user_error(index.string(), "weight_map['" + it.key() + "'] is not a file name");
      const auto shard = it.value().get<std::string>();
      // A shard is a plain file name in the same folder: no path may lead elsewhere.
      if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
        throw_user_error(index.string(),
                         "weight_map['" + it.key() + "'] names '" + shard + "', not a file in the folder");
      if (!by_file.count(shard)) {
        files_.push_back(std::make_unique<SafetensorsFile>((fs::path(dir) / shard).string()));
        by_file[shard] = files_.back().get();
      }
      const auto* file = by_file[shard];
      const auto* info = file->find(it.key());
      if (!info)
        throw_user_error(file->path(),
                         "the index lists tensor '" + it.key() + "' here, but the file lacks it");
      tensors_[it.key()] = {file, info};
    }
    return;
  }
  for (const char* bin :
       {"pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack"})
    if (fs::exists(fs::path(dir) / bin))
      throw_user_error(dir,
                       std::string("has ") + bin +
                           " but no model.safetensors; autopeft reads safetensors only (pickle files can run "
                           "code). Convert it once with Python: from transformers import AutoModel; "
                           "AutoModel.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True)");
  throw_user_error(dir, "no model.safetensors or model.safetensors.index.json");
}

const CheckpointFiles::Entry* CheckpointFiles::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace autopeft::model
