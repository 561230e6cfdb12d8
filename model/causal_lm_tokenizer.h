#pragma once
// Tokenizers of causal-LM folders, for prompts and generated text:
//   gpt2   byte-level BPE (vocab.json + merges.txt), <|endoftext|> matched whole; no BOS added
//          (GPT-2's tokenizer adds none);
//   llama  sentencepiece (tokenizer.model) with its own ids; BOS in front unless
//          tokenizer_config.json says add_bos_token: false, EOS only with add_eos_token: true
//          (LlamaTokenizer's defaults). sentencepiece runs in its isolated module.
#include <memory>
#include <string>
#include <vector>

#include "model/format/decoder_config.h"

namespace autopeft::model {

class CausalLmTokenizer {
 public:
  virtual ~CausalLmTokenizer() = default;
  // Ids of a prompt, with the family's special tokens.
  virtual std::vector<std::int64_t> encode(const std::string& text) const = 0;
  // Text of ids (special tokens dropped).
  virtual std::string decode(const std::vector<std::int64_t>& ids) const = 0;
};

// Errors name the folder and the file it lacks.
std::unique_ptr<CausalLmTokenizer> load_causal_lm_tokenizer(const std::string& dir,
                                                            const DecoderConfig& config);

}  // namespace autopeft::model
