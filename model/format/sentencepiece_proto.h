#pragma once
// A sentencepiece model (sentencepiece_model.proto's ModelProto) written in protobuf's wire format,
// so that a tokenizer.json's Unigram model runs through sentencepiece itself: its normaliser (the
// precompiled charsmap) and its Viterbi segmentation, rather than a second implementation of them.
// Torch-free; only the fields below are written (the others keep their proto defaults).
#include <cstdint>
#include <string>
#include <vector>

namespace autopeft::model {

struct SentencePieceSpec {
  enum class Type { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };
  struct Piece {
    std::string text;
    float score = 0;
    Type type = Type::normal;
  };
  std::vector<Piece> pieces;  // id = index
  int model_type = 1;         // TrainerSpec.ModelType: 1 unigram, 2 bpe
  std::int32_t unk_id = 0, bos_id = -1, eos_id = -1, pad_id = -1;
  bool byte_fallback = false;
  // NormalizerSpec.
  std::string normalizer_name = "identity";
  std::string precompiled_charsmap;  // bytes; empty: no normalisation
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
  // Not part of the proto: applied to the text before sentencepiece sees it, sentencepiece's
  // nmt_nfkc rule (a tokenizer.json's Nmt and NFKC normalizers; sentencepiece only builds that
  // compiled table when training).
  bool nmt_nfkc = false;
  // Also not in the proto: literal replacements made first, in order (XLM-R's tokenizer.json
  // turns `` and '' into " before its compiled table).
  std::vector<std::pair<std::string, std::string>> replacements;
};

// The serialised ModelProto (what a .model file holds).
std::string serialize_sentencepiece_model(const SentencePieceSpec& spec);

// Reads back the pieces and the normaliser of a serialised ModelProto (a .model file's bytes);
// other fields are skipped. UserError naming `source` for malformed bytes.
SentencePieceSpec parse_sentencepiece_model(const std::string& bytes, const std::string& source);

}  // namespace autopeft::model
