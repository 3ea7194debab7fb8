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
    int retry_after_seconds = 0;  ///< sent as Retry-After when > 0
    const char* allow = nullptr;  ///< sent as Allow with 405
};

}  // namespace chgate::http
