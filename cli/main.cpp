#include "cli/command.h"

int main(int argc, char** argv) { return autopeft::cli::main(argc, argv); }
