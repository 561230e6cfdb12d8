#pragma once
// Tokenizers of a model folder, behind the one Tokenizer interface:
//   bert                  WordPiece (vocab.txt)
//   xlm-roberta           sentencepiece (sentencepiece.bpe.model) with fairseq's ids:
//                         <s>=0 <pad>=1 </s>=2 <unk>=3, piece ids + 1, <mask> = pieces + 1
//   camembert (SloBERTa)  sentencepiece with <s>NOTUSED=0 <pad>=1 </s>NOTUSED=2 <unk>=3,
//                         piece ids + 4 (so <s>, </s> of the model come out as piece + 4),
//                         <mask> = pieces + 4
// as transformers' XLMRobertaTokenizer and CamembertTokenizer define them. sentencepiece runs in
// its isolated module (spm_library.h).
#include <memory>
#include <string>

#include "model/format/model_config.h"
#include "model/format/tokenizer.h"
#include "model/spm_library.h"

namespace autopeft::model {

struct FairseqLayout {
  std::int64_t offset = 1;  // added to sentencepiece ids
  // Ids fixed in front of the pieces, by token text.
  std::vector<std::pair<std::string, std::int64_t>> fixed = {
      {"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3}};
  bool passthrough = false;  // the model's ids are the tokenizer's (a tokenizer.json's vocabulary)
  static FairseqLayout xlm_roberta();
  static FairseqLayout camembert();
  static FairseqLayout none();
};

class SentencePieceTokenizer : public Tokenizer {
 public:
  SentencePieceTokenizer(const std::string& model_file, const FairseqLayout& layout);
  // From a tokenizer.json's Unigram model, whose vocabulary already holds fairseq's layout
  // (<s> <pad> </s> <unk>, the pieces, <mask>): ids pass through.
  SentencePieceTokenizer(const SentencePieceSpec& spec, const std::string& source);
  std::vector<std::string> tokenize(const std::string& text) const override;
  std::vector<std::int64_t> to_ids(const std::string& text) const override;
  std::string id_to_token(std::int64_t id) const override;
  std::int64_t vocab_size() const override;
  std::int64_t token_to_id(const std::string& token) const;

 private:
  void set_specials();
  SentencePieceModel spm_;
  FairseqLayout layout_;
};

// The tokenizer of a model folder, for its config; errors name the folder and the file it lacks.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir, const EncoderConfig& config);

}  // namespace autopeft::model
