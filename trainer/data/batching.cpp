#include "trainer/data/batching.h"

#include <algorithm>
#include <numeric>

namespace autopeft::trainer {

namespace {

// std::shuffle's algorithm is unspecified, so the permutation is drawn here (Fisher-Yates) to be
// the same with every standard library.
template <typename T>
void shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(v[i - 1], v[j]);
  }
}

BatchPlan cut(const std::vector<std::size_t>& order, std::size_t batch) {
  BatchPlan plan;
  for (std::size_t s = 0; s < order.size(); s += batch)
    plan.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(s),
                      order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), s + batch)));
  return plan;
}

}  // namespace

BatchPlan training_batches(const FeatureSet& features, const BatchingOptions& options, std::uint64_t seed) {
  const std::size_t batch = std::max<std::size_t>(1, options.batch_size);
  std::vector<std::size_t> order(features.items.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  shuffle(order, rng);
  if (!options.bucket) return cut(order, batch);
  const std::size_t window = batch * std::max<std::size_t>(1, options.bucket_batches);
  BatchPlan plan;
  for (std::size_t s = 0; s < order.size(); s += window) {
    const auto begin = order.begin() + static_cast<std::ptrdiff_t>(s);
    const auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), s + window));
    std::vector<std::size_t> part(begin, end);
    std::stable_sort(part.begin(), part.end(), [&](std::size_t a, std::size_t b) {
      return features.items[a].length() < features.items[b].length();
    });
    for (auto& b : cut(part, batch)) plan.push_back(std::move(b));
  }
  shuffle(plan, rng);
  return plan;
}

BatchPlan evaluation_batches(const FeatureSet& features, std::size_t batch_size) {
  std::vector<std::size_t> order(features.items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return features.items[a].length() < features.items[b].length();
  });
  return cut(order, std::max<std::size_t>(1, batch_size));
}

MaskedTokens mask_tokens(const std::vector<std::int64_t>& ids, const std::set<std::int64_t>& special,
                         std::int64_t mask_id, std::int64_t vocab_size, double probability,
                         std::mt19937_64& rng) {
  MaskedTokens out{ids, std::vector<std::int64_t>(ids.size(), kIgnoreIndex)};
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!special.count(ids[i])) candidates.push_back(i);
  std::vector<std::size_t> chosen;
  for (const auto i : candidates)
    if (u(rng) < probability) chosen.push_back(i);
  if (chosen.empty() && !candidates.empty()) chosen.push_back(candidates[rng() % candidates.size()]);
  for (const auto i : chosen) {
    out.labels[i] = ids[i];
    const double r = u(rng);
    if (r < 0.8)
      out.input_ids[i] = mask_id;
    else if (r < 0.9)
      out.input_ids[i] = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(vocab_size));
  }
  return out;
}

}  // namespace autopeft::trainer
