#pragma once
// Tokenizers of generative models' folders (causal LMs and T5), for prompts and generated text:
//   gpt2   byte-level BPE (vocab.json + merges.txt), <|endoftext|> matched whole; no BOS added
//          (GPT-2's tokenizer adds none);
//   llama  sentencepiece (tokenizer.model) with its own ids; BOS in front unless
//          tokenizer_config.json says add_bos_token: false, EOS only with add_eos_token: true
//          (LlamaTokenizer's defaults);
//   t5     sentencepiece (spiece.model) with its own ids (pad 0, eos 1, unk 2); EOS appended, no
//          BOS (T5Tokenizer's defaults).
// sentencepiece runs in its isolated module.
#include <memory>
#include <string>
#include <vector>

#include "model/format/decoder_config.h"
#include "model/format/t5_config.h"

namespace autopeft::model {

class GenerationTokenizer {
 public:
  virtual ~GenerationTokenizer() = default;
  // Ids of a prompt, with the family's special tokens.
  virtual std::vector<std::int64_t> encode(const std::string& text) const = 0;
  // Ids of a text with no special token (a completion to append to a prompt).
  virtual std::vector<std::int64_t> encode_plain(const std::string& text) const = 0;
  // Text of ids (special tokens dropped).
  virtual std::string decode(const std::vector<std::int64_t>& ids) const = 0;
};

// Errors name the folder and the file it lacks.
std::unique_ptr<GenerationTokenizer> load_causal_lm_tokenizer(const std::string& dir,
                                                              const DecoderConfig& config);
std::unique_ptr<GenerationTokenizer> load_t5_tokenizer(const std::string& dir, const T5Config& config);

}  // namespace autopeft::model
