#include "trainer/trainer.h"

#include <c10/core/InferenceMode.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>
#include <new>

#include "core/errors.h"
#include "model/generation.h"
#include "trainer/activation_cache.h"
#include "trainer/collate.h"
#include "trainer/data/batching.h"
#include "trainer/data/metrics.h"
#include "trainer/seeding.h"

namespace autopeft::trainer {

namespace F = torch::nn::functional;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Seed streams (derive_seed): the model's init uses the trial seed itself (TaskModel).
constexpr std::uint64_t kDropoutStream = 1, kMaskStream = 2, kEvalMaskStream = 3, kOrderStream = 100;

bool is_token_task(const std::string& type) { return type == "token-classification" || type == "mlm"; }
bool is_generative(const std::string& type) { return type == "seq2seq" || type == "causal-lm"; }

// Logits aligned with the input positions (prompt vectors an embeddings hook put in front are cut
// off for token-level tasks).
torch::Tensor logits_of(TaskModel& m, const Batch& b, const std::string& type) {
  if (auto* lm = m.causal_lm()) return lm->forward(b.input_ids, b.attention_mask).logits;
  if (auto* t5 = m.t5()) return t5->forward(b.input_ids, b.attention_mask, b.decoder_input_ids).logits;
  auto out = m.model()->forward(b.input_ids, b.attention_mask, b.token_type_ids);
  auto logits = out.logits;
  if (is_token_task(type) && out.prompt_tokens > 0)
    logits = logits.narrow(1, out.prompt_tokens, b.input_ids.size(1));
  return logits;
}

torch::Tensor loss_of(const torch::Tensor& logits, const Batch& b, const std::string& type) {
  if (type == "regression") return F::mse_loss(logits.select(-1, 0).to(torch::kFloat), b.labels);
  if (is_token_task(type) || is_generative(type))  // every labelled position (generative: the target)
    return F::cross_entropy(logits.reshape({-1, logits.size(-1)}).to(torch::kFloat), b.labels.reshape({-1}),
                            F::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex));
  return F::cross_entropy(logits.to(torch::kFloat), b.labels);
}

bool out_of_memory(const std::exception& e) {
  const std::string what = e.what();
  return what.find("out of memory") != std::string::npos || what.find("Out of memory") != std::string::npos ||
         what.find("DefaultCPUAllocator: can't allocate") != std::string::npos;
}

CollateOptions collate_options(TaskModel& m, const TrainOptions& o, const TaskContext& c) {
  CollateOptions co;
  co.pad_to = o.pad == "max_length" ? o.max_length : 0;
  co.device = m.device();
  co.special = &c.special_ids;
  co.mask_id = c.mask_id;
  co.vocab_size = c.vocab_size;
  co.mlm_probability = o.mlm_probability;
  co.decoder_start = c.decoder_start;
  return co;
}

std::vector<std::string> trimmed(std::vector<std::string> texts) {
  for (auto& t : texts) {
    const auto first = t.find_first_not_of(" \t\r\n");
    t = first == std::string::npos ? std::string()
                                   : t.substr(first, t.find_last_not_of(" \t\r\n") - first + 1);
  }
  return texts;
}

}  // namespace

void check_metric(const std::string& type, const std::string& metric) {
  static const std::set<std::string> classification = {"accuracy", "f1", "macro_f1", "matthews",
                                                       "exact_match"};
  bool ok = false;
  if (type == "classification" || type == "pair-classification") ok = classification.count(metric) > 0;
  if (type == "regression") ok = metric == "pearson" || metric == "spearman";
  if (type == "token-classification") ok = metric == "entity_f1" || metric == "accuracy";
  if (type == "mlm") ok = metric == "accuracy";
  if (type == "seq2seq" || type == "causal-lm")
    ok = metric == "bleu" || metric == "chrf" || metric == "exact_match";
  if (!ok) throw_user_error("metric", "'" + metric + "' cannot score a " + type + " task");
}

nlohmann::json EvalPoint::to_json() const {
  return {{"step", step}, {"epoch", epoch}, {"metric", metric}, {"loss", loss}, {"train_loss", train_loss}};
}

nlohmann::json TrainResult::to_json() const {
  nlohmann::json c = nlohmann::json::array();
  for (const auto& p : curve) c.push_back(p.to_json());
  return {{"status", status},
          {"reason", reason},
          {"best_metric", std::isfinite(best_metric) ? nlohmann::json(best_metric) : nlohmann::json()},
          {"best_step", best_step},
          {"steps", steps},
          {"total_steps", total_steps},
          {"train_tokens", train_tokens},
          {"padded_tokens", padded_tokens},
          {"train_seconds", train_seconds},
          {"eval_seconds", eval_seconds},
          {"cached_layers", cached_layers},
          {"curve", c}};
}

Trainer::Trainer(TaskModel& model, const TrainOptions& options, TaskContext context)
    : model_(model), options_(options), context_(std::move(context)) {
  check_metric(context_.type, context_.metric);
}

void Trainer::use_cache(ActivationCache* cache, std::string key) {
  cache_ = cache;
  cache_key_ = std::move(key);
}

std::int64_t Trainer::total_steps(std::size_t train_examples) const {
  if (options_.max_steps > 0) return options_.max_steps;
  const auto batches =
      static_cast<std::int64_t>((train_examples + options_.batch_size - 1) / options_.batch_size);
  const auto per_epoch = (batches + options_.grad_accumulation - 1) / options_.grad_accumulation;
  return std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil(options_.epochs * static_cast<double>(per_epoch))));
}

EvalResult Trainer::evaluate(const FeatureSet& eval, const LayerInputs* inputs) {
  const auto t0 = Clock::now();
  const std::string& type = context_.type;
  const auto co = collate_options(model_, options_, context_);
  std::mt19937_64 rng(derive_seed(0, kEvalMaskStream));  // the same masks in every evaluation

  std::vector<int> pred, gold;
  std::vector<double> xs, ys;
  std::vector<std::vector<std::string>> pred_tags, gold_tags;
  double loss_sum = 0;
  std::int64_t loss_count = 0, correct = 0, counted = 0;
  std::vector<std::string> hypotheses(is_generative(type) ? eval.items.size() : 0), references;
  const bool was_training = model_.module().is_training();
  model_.module().eval();
  {
    c10::InferenceMode guard;
    for (const auto& idx : evaluation_batches(eval, static_cast<std::size_t>(options_.eval_batch_size))) {
      const auto b = collate(eval, idx, co, rng);
      if (is_generative(type)) {  // the target's loss, then greedy generation from the source
        const auto n = b.labels.ne(kIgnoreIndex).sum().item<std::int64_t>();
        loss_sum += loss_of(logits_of(model_, b, type), b, type).item<double>() * static_cast<double>(n);
        loss_count += n;
        std::vector<std::vector<std::int64_t>> sources;
        for (const auto i : idx) sources.push_back(eval.items[i].input_ids);
        model::GenerationOptions go;
        go.max_new_tokens = context_.max_new_tokens;
        const auto generated = model_.causal_lm() ? model::generate_greedy(*model_.causal_lm(), sources, go)
                                                  : model::generate_greedy(*model_.t5(), sources, go);
        for (std::size_t r = 0; r < idx.size(); ++r) hypotheses[idx[r]] = context_.decode(generated[r]);
        continue;
      }
      const auto logits =
          inputs ? model_.model()
                       ->forward_from(inputs->layer(), inputs->batch(idx, b.input_ids.size(1), co.device),
                                      b.attention_mask)
                       .logits
                 : logits_of(model_, b, type);
      const auto loss = loss_of(logits, b, type);
      if (type == "regression") {
        const auto p = logits.select(-1, 0).to(torch::kDouble).cpu().contiguous();
        const auto y = b.labels.to(torch::kDouble).cpu().contiguous();
        xs.insert(xs.end(), p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
        ys.insert(ys.end(), y.data_ptr<double>(), y.data_ptr<double>() + y.numel());
        loss_sum += loss.item<double>() * static_cast<double>(idx.size());
        loss_count += static_cast<std::int64_t>(idx.size());
      } else if (type == "mlm") {
        const auto labels = b.labels.cpu();
        const auto chosen = labels.ne(kIgnoreIndex);
        const auto n = chosen.sum().item<std::int64_t>();
        correct += logits.argmax(-1).cpu().eq(labels).logical_and(chosen).sum().item<std::int64_t>();
        counted += n;
        loss_sum += loss.item<double>() * static_cast<double>(n);
        loss_count += n;
      } else if (type == "token-classification") {
        const auto arg = logits.argmax(-1).cpu().contiguous();
        const auto a = arg.accessor<std::int64_t, 2>();
        for (std::size_t r = 0; r < idx.size(); ++r) {
          const auto& f = eval.items[idx[r]];
          const auto& ex = context_.eval_examples->examples.at(f.example);
          std::vector<std::string> tags;
          for (const auto pos : f.word_positions)
            tags.push_back(pos < 0 ? std::string("O")
                                   : context_.vocabulary.at(static_cast<std::size_t>(a[r][pos])));
          for (std::size_t w = 0; w < tags.size(); ++w) {
            correct += tags[w] == ex.tags[w] ? 1 : 0;
            ++counted;
          }
          pred_tags.push_back(std::move(tags));
          gold_tags.push_back(ex.tags);
        }
        const auto n = b.labels.ne(kIgnoreIndex).sum().item<std::int64_t>();
        loss_sum += loss.item<double>() * static_cast<double>(n);
        loss_count += n;
      } else {
        const auto arg = logits.argmax(-1).cpu().contiguous();
        const auto y = b.labels.cpu().contiguous();
        for (std::int64_t r = 0; r < arg.size(0); ++r) {
          pred.push_back(static_cast<int>(arg[r].item<std::int64_t>()));
          gold.push_back(static_cast<int>(y[r].item<std::int64_t>()));
        }
        loss_sum += loss.item<double>() * static_cast<double>(idx.size());
        loss_count += static_cast<std::int64_t>(idx.size());
      }
    }
  }
  if (was_training) model_.module().train();
  if (is_generative(type))
    for (const auto& f : eval.items)
      references.push_back(context_.eval_examples->examples.at(f.example).target);

  EvalResult r;
  r.examples = static_cast<std::int64_t>(eval.items.size());
  r.loss = loss_count > 0 ? loss_sum / static_cast<double>(loss_count) : 0.0;
  const auto& m = context_.metric;
  if (is_generative(type))
    r.metric = m == "bleu"   ? bleu(hypotheses, references)
               : m == "chrf" ? chrf(hypotheses, references)
                             : exact_match(trimmed(hypotheses), trimmed(references));
  else if (type == "regression")
    r.metric = m == "pearson" ? pearson(xs, ys) : spearman(xs, ys);
  else if (type == "mlm")
    r.metric = counted > 0 ? static_cast<double>(correct) / static_cast<double>(counted) : 0.0;
  else if (type == "token-classification")
    r.metric = m == "entity_f1"
                   ? entity_f1(pred_tags, gold_tags)
                   : (counted > 0 ? static_cast<double>(correct) / static_cast<double>(counted) : 0.0);
  else if (m == "f1")
    r.metric = binary_f1(pred, gold);
  else if (m == "macro_f1")
    r.metric = macro_f1(pred, gold);
  else if (m == "matthews")
    r.metric = matthews(pred, gold);
  else
    r.metric = accuracy(pred, gold);  // accuracy, exact_match (of the label)
  r.seconds = seconds_since(t0);
  return r;
}

TrainResult Trainer::train(const FeatureSet& train, const FeatureSet& eval, const TrainEvents& events) {
  TrainResult r;
  const auto& o = options_;
  const std::string& type = context_.type;
  r.total_steps = total_steps(train.items.size());
  const std::int64_t warmup =
      o.warmup_steps > 0
          ? o.warmup_steps
          : static_cast<std::int64_t>(std::ceil(o.warmup_ratio * static_cast<double>(r.total_steps)));

  // AdamW with transformers' grouping: matrices decay, biases and LayerNorm weights (1-d) do not.
  std::vector<torch::Tensor> decay, no_decay, all;
  for (const auto& [name, t] : model_.trainable()) {
    (t.dim() >= 2 ? decay : no_decay).push_back(t);
    all.push_back(t);
  }
  auto group_options = [&](double wd) {
    auto opts = std::make_unique<torch::optim::AdamWOptions>(o.learning_rate);
    opts->betas({o.adam_beta1, o.adam_beta2}).eps(o.adam_epsilon).weight_decay(wd);
    return opts;
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decay.empty()) groups.emplace_back(decay, group_options(o.weight_decay));
  if (!no_decay.empty()) groups.emplace_back(no_decay, group_options(0.0));
  if (groups.empty()) throw_user_error("config", "nothing to train: no PEFT module and no head");
  torch::optim::AdamW optimizer(groups, torch::optim::AdamWOptions(o.learning_rate));

  const auto co = collate_options(model_, o, context_);
  std::mt19937_64 mask_rng(derive_seed(o.seed, kMaskStream));
  seed_everything(derive_seed(o.seed, kDropoutStream));

  std::shared_ptr<const LayerInputs> train_inputs, eval_inputs;
  const LayerInputs* train_rows = nullptr;

  std::vector<torch::Tensor> best_state;
  std::int64_t since_best = 0;
  double loss_window = 0;
  std::int64_t loss_window_n = 0;
  const auto steps_per_epoch = std::max<std::int64_t>(
      1, (static_cast<std::int64_t>((train.items.size() + o.batch_size - 1) / o.batch_size) +
          o.grad_accumulation - 1) /
             o.grad_accumulation);

  // Evaluates, records, and says whether to go on.
  auto evaluate_now = [&](std::int64_t epoch_done) -> bool {
    const auto e = evaluate(eval, eval_inputs.get());
    r.eval_seconds += e.seconds;
    EvalPoint p;
    p.step = r.steps;
    p.epoch = epoch_done >= 0 ? static_cast<double>(epoch_done)
                              : static_cast<double>(r.steps) / static_cast<double>(steps_per_epoch);
    p.metric = e.metric;
    p.loss = e.loss;
    p.train_loss = loss_window_n > 0 ? loss_window / static_cast<double>(loss_window_n) : 0.0;
    loss_window = 0;
    loss_window_n = 0;
    r.curve.push_back(p);
    const bool better =
        r.best_step < 0 || p.metric > r.best_metric || (std::isnan(r.best_metric) && !std::isnan(p.metric));
    if (better) {
      r.best_metric = p.metric;
      r.best_step = p.step;
      since_best = 0;
      if (o.keep_best) {
        best_state.clear();
        for (const auto& t : all) best_state.push_back(t.detach().clone());
      }
    } else {
      ++since_best;
    }
    if (events.on_evaluation && !events.on_evaluation(p)) {
      r.status = "pruned";
      r.reason = "pruned at step " + std::to_string(r.steps);
      return false;
    }
    if (o.patience > 0 && since_best >= o.patience) {
      r.reason = "early stopping at step " + std::to_string(r.steps) + " (no improvement in " +
                 std::to_string(o.patience) + " evaluations)";
      return false;
    }
    return true;
  };

  auto train_start = Clock::now();
  try {
    // The activation cache: the inputs of the first layer with a PEFT module, once per example.
    if (cache_ && o.activation_cache && type != "mlm" && !model_.generative()) {
      auto& net = model_.model();
      const auto k = cacheable_layers(model_);
      if (k > 0) {
        const auto hidden = static_cast<std::size_t>(net->config().hidden_size);
        auto entry = [&](const FeatureSet& f, const std::string& split) {
          return cache_->get(cache_key_ + "|" + split + "|k=" + std::to_string(k),
                             f.tokens() * hidden * sizeof(float), [&](const std::string& spill) {
                               return std::make_shared<LayerInputs>(net, f, k, o.eval_batch_size, spill);
                             });
        };
        train_inputs = entry(train, "train");
        eval_inputs = entry(eval, "eval");
        r.cached_layers = k;
      }
    }
    train_rows = train_inputs.get();
    model_.module().train();
    optimizer.zero_grad();
    bool go_on = true;
    bool evaluated_last = false;
    for (std::int64_t epoch = 0; go_on && r.steps < r.total_steps; ++epoch) {
      const auto plan =
          training_batches(train, {static_cast<std::size_t>(o.batch_size), o.bucket, 50},
                           derive_seed(o.seed, kOrderStream + static_cast<std::uint64_t>(epoch)));
      std::int64_t in_accumulation = 0;
      for (std::size_t bi = 0; bi < plan.size() && go_on; ++bi) {
        const auto b = collate(train, plan[bi], co, mask_rng);
        r.train_tokens += b.tokens;
        r.padded_tokens += b.input_ids.numel();
        torch::Tensor loss;
        if (type == "mlm") {  // the head only where tokens were masked
          const auto chosen = b.labels.ne(kIgnoreIndex);
          const auto logits =
              model_.model()->masked_lm_logits(b.input_ids, b.attention_mask, b.token_type_ids, chosen);
          loss = F::cross_entropy(logits.to(torch::kFloat), b.labels.index({chosen}));
        } else if (train_rows) {
          const auto h = train_rows->batch(plan[bi], b.input_ids.size(1), co.device);
          loss =
              loss_of(model_.model()->forward_from(train_rows->layer(), h, b.attention_mask).logits, b, type);
        } else {
          loss = loss_of(logits_of(model_, b, type), b, type);
        }
        const double value = loss.item<double>();
        if (!std::isfinite(value)) {
          r.status = "failed";
          r.reason = "the training loss is " + std::string(std::isnan(value) ? "NaN" : "infinite") +
                     " at step " + std::to_string(r.steps);
          break;
        }
        (o.grad_accumulation > 1 ? loss / static_cast<double>(o.grad_accumulation) : loss).backward();
        loss_window += value;
        ++loss_window_n;
        ++in_accumulation;
        if (in_accumulation < o.grad_accumulation && bi + 1 < plan.size()) continue;
        if (in_accumulation < o.grad_accumulation) {  // a short last group: the mean of what it holds
          torch::NoGradGuard no_grad;
          const double scale =
              static_cast<double>(o.grad_accumulation) / static_cast<double>(in_accumulation);
          for (auto& t : all)
            if (t.grad().defined()) t.grad().mul_(scale);
        }
        in_accumulation = 0;
        if (o.max_grad_norm > 0) torch::nn::utils::clip_grad_norm_(all, o.max_grad_norm);
        const double lr = o.learning_rate * schedule_factor(o.schedule, r.steps, r.total_steps, warmup);
        for (auto& g : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
        optimizer.step();
        optimizer.zero_grad();
        ++r.steps;
        evaluated_last = false;
        if (events.on_step) events.on_step(r.steps, r.total_steps, value);
        if (o.eval_every > 0 && r.steps % o.eval_every == 0) {
          go_on = evaluate_now(-1);
          evaluated_last = true;
        }
        if (r.steps >= r.total_steps) break;
      }
      if (r.status == "failed") break;
      if (go_on && o.eval_every == 0 && !evaluated_last) {
        const bool whole_epoch = r.steps % steps_per_epoch == 0;
        go_on = evaluate_now(whole_epoch ? epoch + 1 : -1);
        evaluated_last = true;
      }
    }
    if (r.status != "failed" && go_on && !evaluated_last) evaluate_now(-1);
  } catch (const std::bad_alloc&) {
    r.status = "failed";
    r.reason = "out of memory at step " + std::to_string(r.steps);
  } catch (const c10::Error& e) {
    if (!out_of_memory(e)) throw;
    r.status = "failed";
    r.reason = "out of memory at step " + std::to_string(r.steps);
  }
  r.train_seconds = seconds_since(train_start) - r.eval_seconds;
  if (r.status != "failed" && o.keep_best && !best_state.empty()) {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < all.size(); ++i) all[i].copy_(best_state[i]);
  }
  model_.module().eval();
  return r;
}

}  // namespace autopeft::trainer
