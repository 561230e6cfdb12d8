#include "trainer/data/splits.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/errors.h"

namespace autopeft::trainer {

namespace {
constexpr std::uint64_t kHoldoutSeed = 20240101;  // fixed: the split must not depend on the trial
}

TrialSplits make_splits(const TaskSpec& task, const TrainOptions& options, const Dataset& train,
                        const Dataset* dev) {
  TrialSplits out;
  std::vector<Example> pool = train.examples;
  if (options.max_train > 0 && pool.size() > static_cast<std::size_t>(options.max_train))
    pool.resize(static_cast<std::size_t>(options.max_train));
  out.train.source = train.source;
  out.train.skipped = train.skipped;
  if (options.eval_on == "holdout") {
    auto n_hold =
        static_cast<std::size_t>(std::ceil(options.holdout_fraction * static_cast<double>(pool.size())));
    n_hold = std::min<std::size_t>(n_hold, static_cast<std::size_t>(options.holdout_max));
    if (pool.size() < 2 || n_hold >= pool.size())
      throw_user_error(
          task.name + ": train",
          std::to_string(pool.size()) + " training examples are too few to hold some out for evaluation");
    n_hold = std::max<std::size_t>(1, n_hold);
    std::vector<std::size_t> order(pool.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(kHoldoutSeed);
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
    std::vector<char> held(pool.size(), 0);
    for (std::size_t i = 0; i < n_hold; ++i) held[order[i]] = 1;
    for (std::size_t i = 0; i < pool.size(); ++i)
      (held[i] ? out.eval : out.train).examples.push_back(pool[i]);
    out.eval.source = train.source + " (held out)";
    out.eval_name = "holdout";
  } else {
    if (!dev) throw_user_error(task.name, "has no dev split to evaluate on");
    out.train.examples = std::move(pool);
    out.eval = *dev;
    out.eval_name = "dev";
  }
  if (options.train_fraction < 1.0) {
    const auto keep = std::max<std::size_t>(
        1, static_cast<std::size_t>(
               std::llround(options.train_fraction * static_cast<double>(out.train.examples.size()))));
    if (keep < out.train.examples.size()) out.train.examples.resize(keep);
  }
  if (options.max_eval > 0 && out.eval.examples.size() > static_cast<std::size_t>(options.max_eval))
    out.eval.examples.resize(static_cast<std::size_t>(options.max_eval));
  if (options.test_on == "dev") {
    if (!dev) throw_user_error(task.name, "has no dev split to test on");
    out.test = *dev;
    if (out.test.examples.empty()) throw_user_error(task.name + ": dev", "no test examples");
  }
  if (out.train.examples.empty()) throw_user_error(task.name + ": train", "no training examples");
  if (out.eval.examples.empty()) throw_user_error(task.name + ": " + out.eval_name, "no evaluation examples");
  return out;
}

TrialSplits read_splits(const TaskSpec& task, const TrainOptions& options) {
  const Dataset train = read_split(task, "train");
  if (options.eval_on == "dev" || options.test_on == "dev") {
    const Dataset dev = read_split(task, "dev");
    return make_splits(task, options, train, &dev);
  }
  return make_splits(task, options, train, nullptr);
}

}  // namespace autopeft::trainer
