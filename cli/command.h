#pragma once
// The frame every `autopeft` subcommand plugs into.
//
// The contract: results go to stdout (a table, or one JSON line where a command says so, always
// the last line); progress and logs go to stderr. Exit 0 when all went well, 1 for any user
// error (a bad flag or argument, a bad file) with one line naming what is wrong, 2 for an
// internal error.
#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace autopeft::cli {

// Global options, accepted before or after the subcommand.
struct GlobalOptions {
  int threads = 0;                 // --threads: LibTorch (and BLAS) threads; 0 = every core
  std::string log_level = "info";  // --log-level: debug, info, warn, error, off
};

// Subcommands register the function that runs them; the deepest parsed subcommand with a
// runner is run after parsing. A runner returns the exit code (0) or throws: UserError -> 1,
// anything else -> 2.
class CommandRegistry {
 public:
  void add(CLI::App* command, std::function<int()> run);
  // The runner of the deepest subcommand that was parsed, or nullptr.
  const std::function<int()>* selected(const CLI::App& root) const;

 private:
  std::map<const CLI::App*, std::function<int()>> runners_;
};

// Each subcommand's file provides one of these; cli/command.cpp lists them in one place.
void add_info_command(CLI::App& app, CommandRegistry& registry, const GlobalOptions& globals);
void add_model_command(CLI::App& app, CommandRegistry& registry, const GlobalOptions& globals);
void add_peft_command(CLI::App& app, CommandRegistry& registry, const GlobalOptions& globals);
void add_study_command(CLI::App& app, CommandRegistry& registry, const GlobalOptions& globals);
void add_train_command(CLI::App& app, CommandRegistry& registry, const GlobalOptions& globals);
void add_init_commands(CLI::App& app, CommandRegistry& registry,
                       const GlobalOptions& globals);  // after model

// Builds the whole command line (global options and every subcommand).
void build_app(CLI::App& app, CommandRegistry& registry, GlobalOptions& globals);

// Parses argv and runs the selected command, applying the exit-code contract. The whole
// program is `return autopeft::cli::main(argc, argv);`.
int main(int argc, char** argv);

}  // namespace autopeft::cli
