#pragma once

#include <string>

#include "http/Response.hpp"

namespace chgate::http {

/// How the request being answered framed the connection.
struct Framing {
    unsigned version = 11;  ///< 10 or 11
    bool keep_alive = true;
    bool head = false;  ///< a HEAD request: headers only
};

/// Writes `r` as HTTP/1.x bytes into `out`, replacing what it held. `out`
/// keeps its capacity, so a connection that reuses it answers without
/// allocating. The same headers Beast would write: Server, Content-Type,
/// Content-Length, the optional ones, and Connection where the default for the
/// version does not hold.
void write_response(const Response& r, Framing framing, std::string& out);

}  // namespace chgate::http
