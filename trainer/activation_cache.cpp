#include "trainer/activation_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "trainer/data/batching.h"
#include "trainer/task_model.h"

namespace autopeft::trainer {

LayerInputs::LayerInputs(model::EncoderForTask& model, const FeatureSet& features, std::int64_t k,
                         std::int64_t batch_size, const std::string& spill_path)
    : k_(k), hidden_(model->config().hidden_size), path_(spill_path) {
  torch::NoGradGuard no_grad;  // not InferenceMode: the rows become inputs of layers that train
  const bool was_training = model->is_training();
  model->eval();
  const auto device = model->base->embeddings->word_embeddings->weight.device();
  if (!path_.empty()) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd_ < 0) throw std::runtime_error("activation cache: cannot create " + path_);
    ::unlink(path_.c_str());  // gone with the descriptor
    offsets_.resize(features.items.size());
    lens_.resize(features.items.size());
  } else {
    rows_.resize(features.items.size());
  }
  std::int64_t offset = 0;
  for (const auto& idx : evaluation_batches(features, static_cast<std::size_t>(batch_size))) {
    std::int64_t s = 0;
    for (const auto i : idx)
      s = std::max<std::int64_t>(s, static_cast<std::int64_t>(features.items[i].length()));
    const auto b = static_cast<std::int64_t>(idx.size());
    auto ids = torch::full({b, s}, features.pad_id, torch::kLong);
    auto types = torch::zeros({b, s}, torch::kLong);
    auto mask = torch::zeros({b, s}, torch::kLong);
    for (std::int64_t r = 0; r < b; ++r) {
      const auto& f = features.items[idx[static_cast<std::size_t>(r)]];
      const auto n = static_cast<std::int64_t>(f.length());
      ids[r].narrow(0, 0, n).copy_(torch::tensor(f.input_ids, torch::kLong));
      if (!f.token_type_ids.empty())
        types[r].narrow(0, 0, n).copy_(torch::tensor(f.token_type_ids, torch::kLong));
      mask[r].narrow(0, 0, n).fill_(1);
    }
    const auto h =
        model->base->hidden_before(k, ids.to(device), mask.to(device), types.to(device)).to(torch::kCPU);
    dtype_ = h.scalar_type();
    for (std::int64_t r = 0; r < b; ++r) {
      const auto i = idx[static_cast<std::size_t>(r)];
      const auto n = static_cast<std::int64_t>(features.items[i].length());
      auto row = h[r].narrow(0, 0, n).contiguous().clone();
      const auto nbytes = static_cast<std::size_t>(row.numel()) * row.element_size();
      bytes_ += nbytes;
      if (fd_ >= 0) {
        if (::pwrite(fd_, row.data_ptr(), nbytes, offset) != static_cast<ssize_t>(nbytes))
          throw std::runtime_error("activation cache: cannot write " + path_ + " (disk full?)");
        offsets_[i] = offset;
        lens_[i] = n;
        offset += static_cast<std::int64_t>(nbytes);
      } else {
        rows_[i] = std::move(row);
      }
    }
  }
  if (was_training) model->train();
}

LayerInputs::~LayerInputs() {
  if (fd_ >= 0) ::close(fd_);
}

torch::Tensor LayerInputs::batch(const std::vector<std::size_t>& indices, std::int64_t length,
                                 c10::Device device) const {
  auto out = torch::zeros({static_cast<std::int64_t>(indices.size()), length, hidden_}, torch::dtype(dtype_));
  for (std::size_t r = 0; r < indices.size(); ++r) {
    const auto i = indices[r];
    if (fd_ >= 0) {
      auto dst = out[static_cast<std::int64_t>(r)].narrow(0, 0, lens_[i]);  // contiguous rows
      const auto nbytes = static_cast<std::size_t>(dst.numel()) * dst.element_size();
      if (::pread(fd_, dst.data_ptr(), nbytes, offsets_[i]) != static_cast<ssize_t>(nbytes))
        throw std::runtime_error("activation cache: cannot read back " + path_);
    } else {
      out[static_cast<std::int64_t>(r)].narrow(0, 0, rows_[i].size(0)).copy_(rows_[i]);
    }
  }
  return out.to(device);
}

ActivationCache::ActivationCache(std::size_t memory_budget_mb, std::string spill_dir)
    : budget_(memory_budget_mb << 20), spill_dir_(std::move(spill_dir)) {
  if (spill_dir_.empty()) spill_dir_ = std::filesystem::temp_directory_path().string();
}

std::shared_ptr<const LayerInputs> ActivationCache::get(
    const std::string& key, std::size_t bytes,
    const std::function<std::shared_ptr<LayerInputs>(const std::string&)>& make) {
  const auto it = entries_.find(key);
  if (it != entries_.end()) {
    ++hits_;
    return it->second;
  }
  std::string path;
  if (memory_bytes_ + bytes > budget_)
    path = (std::filesystem::path(spill_dir_) /
            ("autopeft-cache-" + std::to_string(::getpid()) + "-" + std::to_string(entries_.size())))
               .string();
  auto entry = make(path);
  if (!entry->spilled()) memory_bytes_ += entry->bytes();
  entries_[key] = entry;
  return entry;
}

std::int64_t cacheable_layers(TaskModel& model) {
  if (model.full_finetune() || !model.peft()) return 0;
  if (model.model()->base->embedding_hook()) return 0;
  const auto& layers = model.peft()->layers();
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (!layers[i].empty()) return static_cast<std::int64_t>(i);
  return static_cast<std::int64_t>(layers.size());
}

}  // namespace autopeft::trainer
