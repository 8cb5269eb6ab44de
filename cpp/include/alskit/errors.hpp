// Error types of the core; the binding maps them to Python exceptions.
#pragma once

#include <stdexcept>
#include <string>

namespace alskit {

/// A caller passed something malformed; the message names the argument (→ ValueError).
class InvalidArgument : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

/// A solve produced no finite answer even after the robust fallback (→ FloatingPointError).
class NumericalError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail_argument(const std::string& message) {
    throw InvalidArgument(message);
}

inline void require(bool condition, const std::string& message) {
    if (!condition) fail_argument(message);
}

}  // namespace alskit
