#include "model/format/tokenizer.h"

#include "core/errors.h"

namespace autopeft::model {

std::pair<std::size_t, std::size_t> longest_first(std::size_t n1, std::size_t n2, std::size_t budget) {
  if (n1 + n2 <= budget) return {n1, n2};
  // tokenizers (Rust) TruncationStrategy::LongestFirst: the shorter keeps what it can, as long
  // as the longer keeps at least as much; if both must be cut, split the budget, the longer one
  // (the second on a tie) getting the odd token.
  const bool swap = n1 > n2;
  if (swap) std::swap(n1, n2);  // now n1 <= n2
  std::size_t keep1 = n1, keep2;
  keep2 = n1 > budget ? n1 : std::max(n1, budget - n1);
  if (keep1 + keep2 > budget) {
    keep1 = budget / 2;
    keep2 = keep1 + budget % 2;
  }
  keep1 = std::min(keep1, n1);
  keep2 = std::min(keep2, n2);
  return swap ? std::make_pair(keep2, keep1) : std::make_pair(keep1, keep2);
}

Encoding Tokenizer::encode(const std::string& a, const std::optional<std::string>& b, std::int64_t max_length,
                           bool truncation) const {
  auto x = to_ids(a);
  std::vector<std::int64_t> y;
  if (b) y = to_ids(*b);
  const std::int64_t limit = max_length < 0 ? model_max_length_ : max_length;
  const std::int64_t specials = !b ? 2 : (template_ == PairTemplate::bert ? 3 : 4);
  const std::int64_t total = static_cast<std::int64_t>(x.size() + y.size()) + specials;
  if (total > limit) {
    if (!truncation)
      throw_user_error("input",
                       std::to_string(total) + " tokens, more than the limit of " + std::to_string(limit));
    if (limit < specials)
      throw_user_error("max_length", std::to_string(limit) + " leaves no room for the " +
                                         std::to_string(specials) + " special tokens");
    const auto budget = static_cast<std::size_t>(limit - specials);
    if (!b) {
      x.resize(budget);
    } else {
      const auto [k1, k2] = longest_first(x.size(), y.size(), budget);
      x.resize(k1);
      y.resize(k2);
    }
  }
  Encoding e;
  e.truncated = total > limit;
  auto& ids = e.input_ids;
  ids.push_back(special_.cls);
  ids.insert(ids.end(), x.begin(), x.end());
  ids.push_back(special_.sep);
  e.token_type_ids.assign(ids.size(), 0);
  if (b) {
    if (template_ == PairTemplate::roberta) ids.push_back(special_.sep);
    ids.insert(ids.end(), y.begin(), y.end());
    ids.push_back(special_.sep);
    e.token_type_ids.resize(ids.size(), template_ == PairTemplate::bert ? 1 : 0);
  }
  e.attention_mask.assign(ids.size(), 1);
  return e;
}

}  // namespace autopeft::model
