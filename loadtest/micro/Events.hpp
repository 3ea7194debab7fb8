#pragma once

#include <string>

namespace chgate::micro {

/// An analytics-example event of about 260 bytes; `i` varies its fields.
std::string event(int i);
/// `n` events as one body: a JSON array, or NDJSON lines.
std::string body(int n, bool ndjson);

}  // namespace chgate::micro
