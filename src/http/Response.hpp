#pragma once

#include <ostream>  // boost/beast/http/status.hpp needs it in Boost 1.81

#include <boost/beast/http/status.hpp>
#include <string>

namespace chgate::http {

/// A handler's answer, independent of Beast's message types so handlers stay
/// testable without sockets.
struct Response {
    boost::beast::http::status status = boost::beast::http::status::ok;
    std::string body;
    const char* content_type = "application/json";
    int retry_after_seconds = 0;             ///< sent as Retry-After when > 0
    const char* allow = nullptr;             ///< sent as Allow with 405
    const char* www_authenticate = nullptr;  ///< sent with 401
    bool idempotent_replayed = false;        ///< sent as Idempotent-Replayed: true
    std::string extra_headers;               ///< more headers, each "Name: value\r\n"
};

}  // namespace chgate::http

#include <chrono>
#include <functional>
#include <memory>

namespace chgate::http {

/// A response that comes later, from any thread. The first answer wins; later
/// ones (a timeout racing a completion) are ignored.
class Reply {
  public:
    virtual ~Reply() = default;
    virtual void send(Response r) = 0;
};
using ReplyPtr = std::shared_ptr<Reply>;

/// Given to handlers by the session: defer(timeout, on_timeout) promises an
/// answer through the returned Reply; if none comes within `timeout` (zero:
/// no limit), the session sends `on_timeout` itself.
using Defer = std::function<ReplyPtr(std::chrono::milliseconds timeout, Response on_timeout)>;

}  // namespace chgate::http
