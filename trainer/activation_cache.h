#pragma once
// The activation cache. When layers 0..k-1 carry no PEFT module and nothing below them trains,
// their output for an example never changes: it is computed once per example and reused by every
// epoch and by every trial (of a study) that shares k, the data and the maximum length. The
// cached layers run in evaluation mode: no dropout there (without the cache they run with the
// model's dropout while training; evaluation is the same either way). Entries beyond the memory
// budget are written to a file and read back per batch.
#include <torch/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/encoder_task.h"
#include "trainer/data/features.h"

namespace autopeft::trainer {

class TaskModel;

// The cached inputs of layer k for every feature of one feature set.
class LayerInputs {
 public:
  // Runs the embeddings and layers 0..k-1 of `model` (evaluation mode, no gradients) over the
  // features. When `spill_path` is not empty the rows go to that file instead of memory.
  LayerInputs(model::EncoderForTask& model, const FeatureSet& features, std::int64_t k,
              std::int64_t batch_size, const std::string& spill_path = "");
  ~LayerInputs();
  LayerInputs(const LayerInputs&) = delete;
  LayerInputs& operator=(const LayerInputs&) = delete;

  // [B, S, H] for the features `indices`, zero-padded to `length`, on `device`.
  torch::Tensor batch(const std::vector<std::size_t>& indices, std::int64_t length, c10::Device device) const;
  std::int64_t layer() const { return k_; }
  std::size_t bytes() const { return bytes_; }
  bool spilled() const { return fd_ >= 0; }

 private:
  std::int64_t k_ = 0, hidden_ = 0;
  std::vector<torch::Tensor> rows_;           // in memory: [len, H] float32 per feature
  std::vector<std::int64_t> offsets_, lens_;  // spilled: byte offset and length per feature
  int fd_ = -1;
  std::string path_;
  std::size_t bytes_ = 0;
  torch::ScalarType dtype_ = torch::kFloat;
};

class ActivationCache {
 public:
  // Entries are kept in memory up to `memory_budget_mb`, then spilled into files in `spill_dir`
  // (default: the system's temporary folder).
  explicit ActivationCache(std::size_t memory_budget_mb = 2048, std::string spill_dir = "");
  // The entry for `key`, made by `make(spill_path)` the first time: spill_path is empty while
  // `bytes` (the entry's size) fits the memory budget, else a file in the spill folder.
  std::shared_ptr<const LayerInputs> get(
      const std::string& key, std::size_t bytes,
      const std::function<std::shared_ptr<LayerInputs>(const std::string&)>& make);
  std::size_t memory_bytes() const { return memory_bytes_; }
  std::size_t entries() const { return entries_.size(); }
  std::size_t hits() const { return hits_; }

 private:
  std::size_t budget_;
  std::string spill_dir_;
  std::map<std::string, std::shared_ptr<LayerInputs>> entries_;
  std::size_t memory_bytes_ = 0, hits_ = 0;
};

// The number of bottom layers whose output the cache may hold for this model: the index of the
// first layer with a PEFT module (all layers when none has one), 0 for full fine-tuning or an
// embeddings-level method (prompt tuning, P-tuning).
std::int64_t cacheable_layers(TaskModel& model);

}  // namespace autopeft::trainer
