// Error types of the core; the binding maps them to Python exceptions.
#pragma once

#include <stdexcept>
#include <string>
#include <type_traits>

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

namespace detail {

inline void append(std::string& message, const std::string& part) { message += part; }
inline void append(std::string& message, const char* part) { message += part; }
template <class Number, std::enable_if_t<std::is_arithmetic_v<Number>, int> = 0>
void append(std::string& message, Number part) {
    message += std::to_string(part);
}

}  // namespace detail

/// Throws InvalidArgument unless `condition`. The message is the concatenation of `parts`
/// (strings and numbers), built only when the check fails: a check in a loop costs a compare.
template <class... Parts>
void require(bool condition, const Parts&... parts) {
    if (condition) return;
    std::string message;
    (detail::append(message, parts), ...);
    fail_argument(message);
}

}  // namespace alskit
