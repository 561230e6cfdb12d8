#pragma once
// Byte-level BPE (GPT-2; RoBERTa reuses it with its own special tokens): vocab.json (piece ->
// id) and merges.txt (one "a b" merge per line, by rank; a "#version" first line is skipped).
//   1. pre-tokenisation with GPT-2's pattern
//        's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//      (scanned by hand on utf8proc's categories; \s is Unicode white space);
//   2. each piece's UTF-8 bytes mapped to printable characters (GPT-2's bytes_to_unicode: the
//      188 printable Latin-1 bytes to themselves, the others to U+0100 onwards, in byte order);
//   3. the merges applied lowest rank first until none applies; the results looked up in vocab.
// Special tokens (added tokens such as <mask> or <|endoftext|>) are matched in the text first and
// never split. decode() maps pieces back to bytes. Torch-free.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/format/tokenizer.h"

namespace autopeft::model {

class ByteLevelBpe : public Tokenizer {
 public:
  // The pre-tokeniser's pattern: GPT-2's (ByteLevel with use_regex), or the one Llama 3 (and
  // tiktoken's cl100k) split with before a ByteLevel without regex: case-insensitive contractions,
  // a letter run with one leading non-letter, digits in runs of at most 3, newlines apart.
  enum class Pattern { gpt2, llama3 };
  struct Options {
    bool add_prefix_space = false;            // a space before the text, as RoBERTa's option
    std::vector<std::string> special_tokens;  // matched whole in the text (they must be in vocab)
    Pattern pattern = Pattern::gpt2;
    bool ignore_merges = false;  // a pre-token in the vocabulary is one piece, merges or not (Llama 3)
  };
  ByteLevelBpe(std::unordered_map<std::string, std::int64_t> vocab,
               std::vector<std::pair<std::string, std::string>> merges, Options options);
  // From vocab.json and merges.txt (errors name the file and, for merges, the line).
  static std::unique_ptr<ByteLevelBpe> from_files(const std::string& vocab_json,
                                                  const std::string& merges_txt, Options options);
  // A RoBERTa tokenizer from a model folder: vocab.json, merges.txt; <s> <pad> </s> <unk> <mask>;
  // the roberta pair template; add_prefix_space from tokenizer_config.json.
  static std::unique_ptr<ByteLevelBpe> roberta_from_dir(const std::string& dir, std::int64_t position_limit);

  // RoBERTa's special tokens (<s> <pad> </s> <unk> <mask>, which must be in the vocabulary) and
  // pair template.
  void use_roberta_layout();

  std::vector<std::string> tokenize(const std::string& text) const override;
  std::vector<std::int64_t> to_ids(const std::string& text) const override;
  std::string id_to_token(std::int64_t id) const override;
  std::int64_t vocab_size() const override;
  std::string decode(const std::vector<std::int64_t>& ids) const;

  // The pre-tokeniser alone (pieces of the text as UTF-8, before the byte mapping).
  static std::vector<std::string> pre_tokenize(const std::string& text, Pattern pattern = Pattern::gpt2);
  // GPT-2's byte -> character table, as UTF-8 strings.
  static const std::vector<std::string>& byte_encoder();

  std::int64_t token_id(const std::string& token) const;  // -1 when absent

 private:
  std::vector<std::string> bpe(const std::string& mapped) const;  // one pre-token, byte-mapped
  std::unordered_map<std::string, std::int64_t> vocab_;
  std::vector<std::string> id_to_piece_;
  std::map<std::pair<std::string, std::string>, int> ranks_;
  Options options_;
};

}  // namespace autopeft::model
