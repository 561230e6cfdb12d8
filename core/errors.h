#pragma once
// Error kinds shared by every layer.
//
// UserError: the user's input is wrong (a flag, a file, a key, a value). The message names the
// offending thing; the command line turns it into exit code 1 and one line on stderr.
// Anything else that escapes to main() is an internal error (exit code 2).
#include <stdexcept>
#include <string>

namespace autopeft {

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws UserError("<where>: <what>") — the usual shape of a bad-input message
// (where = a file, file:line, a JSON key path, or a flag).
[[noreturn]] void throw_user_error(const std::string& where, const std::string& what);

}  // namespace autopeft
