#include "cli/command.h"

#include <cstdio>
#include <exception>
#include <iostream>

#include "core/errors.h"
#include "core/logging.h"
#include "core/version.h"
#include "model/runtime.h"

namespace autopeft::cli {

void CommandRegistry::add(CLI::App* command, std::function<int()> run) { runners_[command] = std::move(run); }

const std::function<int()>* CommandRegistry::selected(const CLI::App& root) const {
  const std::function<int()>* found = nullptr;
  const CLI::App* app = &root;
  while (app) {
    if (auto it = runners_.find(app); it != runners_.end()) found = &it->second;
    const CLI::App* next = nullptr;
    for (const auto* sub : app->get_subcommands())
      if (sub->parsed()) next = sub;
    app = next;
  }
  return found;
}

void build_app(CLI::App& app, CommandRegistry& registry, GlobalOptions& globals) {
  app.description(
      "autopeft: finds the best parameter-efficient fine-tuning configuration for a pretrained "
      "transformer and a task (multi-objective Bayesian optimisation over per-layer PEFT).");
  app.set_version_flag("--version", std::string("autopeft ") + AUTOPEFT_VERSION);
  app.set_help_all_flag("--help-all", "Show the help of every subcommand");
  app.require_subcommand(1);
  // Global options may follow the subcommand too (subcommands fall through to the root).
  app.fallthrough();
  app.add_option("--threads", globals.threads, "LibTorch and BLAS threads (0 = every core)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--log-level", globals.log_level, "debug, info, warn, error or off (logs go to stderr)")
      ->check(CLI::IsMember({"debug", "info", "warn", "warning", "error", "off"}));

  // Every subcommand, in one place.
  add_info_command(app, registry, globals);
  add_model_command(app, registry, globals);
  add_peft_command(app, registry, globals);
  add_study_command(app, registry, globals);
  add_train_command(app, registry, globals);
  add_init_commands(app, registry, globals);
}

int main(int argc, char** argv) {
  CLI::App app;
  CommandRegistry registry;
  GlobalOptions globals;
  try {
    build_app(app, registry, globals);
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "autopeft: error: %s (see --help)\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "autopeft: internal error: %s\n", e.what());
    return 2;
  }
  try {
    log::set_level(log::parse_level(globals.log_level));
    model::set_threads(globals.threads);
    const auto* run = registry.selected(app);
    if (!run) {
      std::fprintf(stderr, "autopeft: error: no command given (see --help)\n");
      return 1;
    }
    const int code = (*run)();
    std::cout.flush();
    return code;
  } catch (const UserError& e) {
    std::fprintf(stderr, "autopeft: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "autopeft: internal error: %s\n", e.what());
    return 2;
  } catch (...) {
    std::fprintf(stderr, "autopeft: internal error: unknown exception\n");
    return 2;
  }
}

}  // namespace autopeft::cli
