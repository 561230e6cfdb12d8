#pragma once
// BERT's WordPiece tokenizer (vocab.txt), with transformers' BertTokenizer basic tokenisation:
// clean the text (drop NUL, U+FFFD and control characters; whitespace becomes a space), put
// spaces around CJK ideographs, NFC, split on whitespace, lower-case and strip accents (NFD, drop
// Mn) as tokenizer_config.json says, split off punctuation (all non-alphanumeric ASCII and
// Unicode P*), then greedy longest-match-first WordPiece with "##" continuations; a word over
// 100 characters, or one with no match, becomes [UNK]. Special tokens in the text are kept.
// Case mapping is Unicode's simple (one to one) lowercase; Python's str.lower() differs only for
// a few characters (e.g. U+0130), which accent stripping then makes equal.
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/format/tokenizer.h"

namespace autopeft::model {

struct WordPieceOptions {
  bool do_lower_case = true;             // tokenizer_config.json "do_lower_case"
  std::optional<bool> strip_accents;     // null: follow do_lower_case (transformers' default)
  bool tokenize_chinese_chars = true;    // spaces around CJK ideographs
  std::size_t max_chars_per_word = 100;  // longer words become [UNK]
};

class WordPieceTokenizer : public Tokenizer {
 public:
  // Reads vocab.txt (one token a line, id = line number). Errors name the file and line.
  WordPieceTokenizer(const std::string& vocab_file, const WordPieceOptions& options = {});
  // From the tokens in id order (`source` names where they came from in errors).
  WordPieceTokenizer(std::vector<std::string> tokens, const WordPieceOptions& options,
                     const std::string& source);
  // From a model folder: vocab.txt plus tokenizer_config.json when present.
  static std::unique_ptr<WordPieceTokenizer> from_dir(const std::string& dir, std::int64_t position_limit);

  std::vector<std::string> tokenize(const std::string& text) const override;
  std::vector<std::int64_t> to_ids(const std::string& text) const override;
  std::string id_to_token(std::int64_t id) const override;
  std::int64_t vocab_size() const override { return static_cast<std::int64_t>(tokens_.size()); }
  // The basic tokenisation alone (the words WordPiece then splits).
  std::vector<std::string> basic_tokenize(const std::string& text) const;

 private:
  void index(const std::string& source);  // vocab_, specials and template from tokens_
  std::vector<std::string> wordpiece(const std::string& word) const;
  std::int64_t id_of(const std::string& token) const;
  WordPieceOptions options_;
  std::unordered_map<std::string, std::int64_t> vocab_;
  std::vector<std::string> tokens_;
  std::vector<std::string> never_split_;
};

}  // namespace autopeft::model
