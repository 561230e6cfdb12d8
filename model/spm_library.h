#pragma once
// Access to sentencepiece from a process that also runs LibTorch.
//
// The sentencepiece module (model/spm/) is loaded once with dlmopen(LM_ID_NEWLM), so its
// protobuf never meets LibTorch's. The module is looked up, in order, at $AUTOPEFT_SPM_MODULE,
// next to the running executable (and one and two folders up, for test binaries), and at the
// path it was built to.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/format/sentencepiece_proto.h"

namespace autopeft::model {

struct SpmFunctions;  // the module's entry points (spm_library.cpp)

// The loaded module; one per process, loaded on first use. Throws std::runtime_error naming
// every place it looked when the module cannot be loaded.
class SentencePieceLibrary {
 public:
  static const SentencePieceLibrary& instance();
  const std::string& path() const { return path_; }
  const SpmFunctions& functions() const { return *fns_; }

  // Trains a model with sentencepiece's trainer; `args` as for spm_train
  // ("--input=corpus.txt --model_prefix=m --vocab_size=100 ..."). Throws UserError on failure.
  void train(const std::string& args) const;

 private:
  SentencePieceLibrary();
  std::string path_;
  std::shared_ptr<SpmFunctions> fns_;
};

// One loaded sentencepiece model.
class SentencePieceModel {
 public:
  // Loads a .model file; throws UserError naming the file on failure.
  explicit SentencePieceModel(const std::string& model_path);
  // Loads a model given by its fields (a tokenizer.json's Unigram model, format/sentencepiece_proto.h);
  // errors name `source`.
  SentencePieceModel(const SentencePieceSpec& spec, const std::string& source);
  ~SentencePieceModel();
  SentencePieceModel(const SentencePieceModel&) = delete;
  SentencePieceModel& operator=(const SentencePieceModel&) = delete;

  int vocab_size() const;
  int unk_id() const { return unk_; }
  int bos_id() const { return bos_; }
  int eos_id() const { return eos_; }
  int pad_id() const { return pad_; }
  int piece_to_id(const std::string& piece) const;
  std::string id_to_piece(int id) const;
  std::vector<int32_t> encode(const std::string& text) const;
  std::vector<std::string> encode_pieces(const std::string& text) const;
  std::string decode(const std::vector<int32_t>& ids) const;

 private:
  const SpmFunctions& fns_;
  void* handle_ = nullptr;
  std::string path_;
  int32_t unk_ = -1, bos_ = -1, eos_ = -1, pad_ = -1;
  bool nmt_nfkc_ = false;                                          // SentencePieceSpec::nmt_nfkc
  std::vector<std::pair<std::string, std::string>> replacements_;  // SentencePieceSpec::replacements
  std::string prepared(const std::string& text) const;
};

}  // namespace autopeft::model
