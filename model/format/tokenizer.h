#pragma once
// The tokenizer interface every model family uses, and the encoding of single texts and pairs
// with special tokens and truncation. Torch-free.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace autopeft::model {

struct Encoding {
  std::vector<std::int64_t> input_ids;
  std::vector<std::int64_t> token_type_ids;
  std::vector<std::int64_t> attention_mask;
  bool truncated = false;  // tokens were cut to fit max_length
};

// How special tokens frame a text or a pair:
//   bert:    [CLS] a [SEP]          [CLS] a [SEP] b [SEP]       token types 0 for a, 1 for b
//   roberta: <s> a </s>             <s> a </s></s> b </s>       token types all 0
enum class PairTemplate { bert, roberta };

struct SpecialTokens {
  std::int64_t cls = -1;  // [CLS] / <s>
  std::int64_t sep = -1;  // [SEP] / </s>
  std::int64_t pad = -1;
  std::int64_t unk = -1;
  std::int64_t mask = -1;  // -1 where the vocabulary has none
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Pieces of a text, without special tokens.
  virtual std::vector<std::string> tokenize(const std::string& text) const = 0;
  // Ids of a text, without special tokens.
  virtual std::vector<std::int64_t> to_ids(const std::string& text) const = 0;
  virtual std::string id_to_token(std::int64_t id) const = 0;
  virtual std::int64_t vocab_size() const = 0;

  const SpecialTokens& special() const { return special_; }
  PairTemplate pair_template() const { return template_; }
  // tokenizer_config.json's model_max_length, else the model's position limit.
  std::int64_t model_max_length() const { return model_max_length_; }
  void set_model_max_length(std::int64_t n) { model_max_length_ = n; }

  // Encodes a text or a pair with special tokens. max_length < 0 means model_max_length().
  // Truncation is longest-first with the rule of Hugging Face's fast tokenizers (which run_glue
  // uses): when both texts must shrink, the longer keeps ceil(budget/2), a tie favours the second.
  // Without truncation an over-long input is a UserError.
  Encoding encode(const std::string& a, const std::optional<std::string>& b = std::nullopt,
                  std::int64_t max_length = -1, bool truncation = true) const;

 protected:
  SpecialTokens special_;
  PairTemplate template_ = PairTemplate::bert;
  std::int64_t model_max_length_ = 512;
};

// The lengths two sequences of n1 and n2 tokens keep within `budget` tokens (longest-first,
// as the fast tokenizers compute it).
std::pair<std::size_t, std::size_t> longest_first(std::size_t n1, std::size_t n2, std::size_t budget);

}  // namespace autopeft::model
