#include "core/errors.h"

namespace autopeft {

void throw_user_error(const std::string& where, const std::string& what) {
  throw UserError(where.empty() ? what : where + ": " + what);
}

}  // namespace autopeft
