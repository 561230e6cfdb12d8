// `autopeft train`: full training of one configuration over several seeds, with exports.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/errors.h"
#include "core/json_file.h"
#include "core/logging.h"
#include "model/runtime.h"
#include "peft/spec/config_import.h"
#include "peft/spec/model_dims.h"
#include "trainer/progress.h"
#include "trainer/training_run.h"

namespace autopeft::cli {

namespace {

struct TrainCommandOptions {
  std::string model, task, config, out, options_file, progress = "auto", device = "cpu", eval_on = "dev",
                                                      test_on;
  int seeds = 1;
  std::optional<double> epochs, lr;
  std::optional<std::int64_t> max_steps, max_train, max_eval, batch_size, eval_every, patience;
};

// --config: a file in any of the three forms, preset:NAME, "linear-probe" (only the head trains)
// or "full" (full fine-tuning).
trainer::TrainTarget load_target(const std::string& spec, const trainer::PreparedTask& prepared) {
  trainer::TrainTarget t;
  t.source = spec;
  if (spec == "full") {
    t.full_finetune = true;
    return t;
  }
  if (spec == "linear-probe") return t;
  t.config = peft::import_config_file(spec, prepared.dims());
  return t;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (const double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double sample_std(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean_of(v);
  double s = 0;
  for (const double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

int train(const TrainCommandOptions& o) {
  trainer::TrainOptions options;
  if (!o.options_file.empty())
    options =
        trainer::TrainOptions::from_json(read_json_file(o.options_file, "options file"), o.options_file);
  options.eval_on = o.eval_on;
  if (!o.test_on.empty()) options.test_on = o.test_on;
  if (o.epochs) options.epochs = *o.epochs;
  if (o.lr) options.learning_rate = *o.lr;
  if (o.max_steps) options.max_steps = *o.max_steps;
  if (o.max_train) options.max_train = *o.max_train;
  if (o.max_eval) options.max_eval = *o.max_eval;
  if (o.batch_size) options.batch_size = *o.batch_size;
  if (o.eval_every) options.eval_every = *o.eval_every;
  if (o.patience) options.patience = *o.patience;
  options.validate("options");
  if (o.seeds < 1) throw_user_error("--seeds", "must be at least 1");
  const auto device = model::parse_device(o.device);
  const auto mode = trainer::parse_progress_mode(o.progress);

  const auto task = trainer::TaskSpec::from_file(o.task);
  const trainer::PreparedTask prepared(o.model, task, options);
  const auto target = load_target(o.config, prepared);
  const auto summary = prepared.summary();
  log::info("task {}: {} training examples, {} evaluation examples ({}), metric {}", task.name,
            summary["train_examples"].get<std::size_t>(), summary["eval_examples"].get<std::size_t>(),
            summary["eval_on"].get<std::string>(), task.metric);

  std::vector<double> values, test_values;
  nlohmann::json runs = nlohmann::json::array();
  peft::CountReport counts;
  nlohmann::json exports;
  for (int seed = 0; seed < o.seeds; ++seed) {
    auto seed_options = options;
    seed_options.seed = static_cast<std::uint64_t>(seed);
    trainer::Progress progress(mode, fmt::format("seed {}", seed));
    trainer::TrainEvents events;
    events.on_step = [&](std::int64_t step, std::int64_t total, double loss) {
      progress.step(step, total, loss);
    };
    events.on_evaluation = [&](const trainer::EvalPoint& p) {
      progress.note(
          fmt::format("step {} {} {:.4f} (eval loss {:.4f})", p.step, task.metric, p.metric, p.loss));
      return true;
    };
    auto run = trainer::run_training(prepared, target, seed_options, events, device);
    progress.finish();
    if (run.train.status == "failed") throw_user_error(fmt::format("seed {}", seed), run.train.reason);
    counts = run.counts;
    const auto dir = (std::filesystem::path(o.out) / fmt::format("seed-{}", seed)).string();
    exports = trainer::export_run(run, prepared, target, dir);
    auto record = run.train.to_json();
    record["seed"] = seed;
    if (prepared.has_test()) {
      const auto test = trainer::evaluate_test(run, prepared, seed_options);
      progress.note(fmt::format("{} on {}: {:.4f}", task.metric, options.test_on, test.metric));
      record["test"] = {
          {"on", options.test_on}, {"metric", test.metric}, {"loss", test.loss}, {"examples", test.examples}};
      test_values.push_back(test.metric);
    }
    record["exports"] = exports;
    std::ofstream((std::filesystem::path(dir) / "result.json").string()) << record.dump(2) << "\n";
    values.push_back(run.train.best_metric);
    runs.push_back(record);
  }
  nlohmann::ordered_json line = {{"metric", task.metric},
                                 {"mean", mean_of(values)},
                                 {"std", sample_std(values)},
                                 {"values", values},
                                 {"trainable", counts.trainable},
                                 {"stored", counts.stored},
                                 {"params_percent", counts.params_percent},
                                 {"eval_on", summary["eval_on"]},
                                 {"out", o.out},
                                 {"skipped_formats", exports["skipped"]}};
  if (!test_values.empty())
    line["test"] = {{"on", options.test_on},
                    {"mean", mean_of(test_values)},
                    {"std", sample_std(test_values)},
                    {"values", test_values}};
  nlohmann::json all = {{"summary", line}, {"task", summary}, {"options", options.to_json()}, {"runs", runs}};
  std::ofstream((std::filesystem::path(o.out) / "summary.json").string()) << all.dump(2) << "\n";
  std::cout << line.dump() << "\n";
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, CommandRegistry& registry, const GlobalOptions&) {
  auto o = std::make_shared<TrainCommandOptions>();
  auto* cmd = app.add_subcommand("train",
                                 "Train one configuration with seeds 0..n-1; writes the trained PEFT weights "
                                 "in every export format that can "
                                 "express the configuration, and prints one JSON line "
                                 "{metric, mean, std, values, trainable, stored, ...}");
  cmd->add_option("--model", o->model, "Model folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--task", o->task, "Task JSON file")->required();
  cmd->add_option("--config", o->config,
                  "PEFT configuration: our JSON, a Hugging Face PEFT or AdapterHub adapter_config.json, "
                  "preset:NAME, linear-probe (head only) or full (full fine-tuning)")
      ->required();
  cmd->add_option("--out", o->out, "Output folder (seed-K/ per seed, summary.json)")->required();
  cmd->add_option("--seeds", o->seeds, "Number of seeds (0..n-1)")->capture_default_str();
  cmd->add_option("--options", o->options_file, "Training options JSON (the keys of a study's fidelity)");
  cmd->add_option("--eval-on", o->eval_on,
                  "dev (the task's dev set) or holdout (a part of the training data)")
      ->capture_default_str();
  cmd->add_option("--test-on", o->test_on,
                  "dev: with --eval-on holdout, evaluate the selected model once on the dev set "
                  "(reported as \"test\")");
  cmd->add_option("--epochs", o->epochs, "Epochs (may be fractional)");
  cmd->add_option("--max-steps", o->max_steps, "Optimiser steps (overrides --epochs)");
  cmd->add_option("--max-train", o->max_train, "First N training examples");
  cmd->add_option("--max-eval", o->max_eval, "First N evaluation examples");
  cmd->add_option("--lr", o->lr, "Learning rate");
  cmd->add_option("--batch-size", o->batch_size, "Batch size");
  cmd->add_option("--eval-every", o->eval_every, "Evaluate every N steps (default: every epoch)");
  cmd->add_option("--patience", o->patience, "Early stopping after N evaluations without improvement");
  cmd->add_option("--device", o->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_option("--progress", o->progress, "auto, bar, lines or quiet")->capture_default_str();
  registry.add(cmd, [o]() { return train(*o); });
}

}  // namespace autopeft::cli
