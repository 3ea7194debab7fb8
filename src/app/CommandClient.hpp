#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace chgate::app {

/// The HTTP client of the commands that talk to a running chgate (status,
/// top, drain): blocking libcurl, one connection kept between requests.
/// Every answer is bounded in size and time.
class CommandClient {
  public:
    struct Request {
        std::string method = "GET";  ///< GET, or POST (with an empty body)
        std::string url;
        std::string token;  ///< sent as a bearer token; empty: none
        std::chrono::milliseconds timeout{5000};
        /// Off only for chgate's own address read from its configuration
        /// (drain): its certificate is then trusted as the configuration is.
        bool verify_tls = true;
        std::size_t max_body = std::size_t{64} << 20;
        bool accept_json = false;
    };
    struct Answer {
        long status = 0;
        std::string body;
    };

    CommandClient();
    ~CommandClient();
    CommandClient(const CommandClient&) = delete;
    CommandClient& operator=(const CommandClient&) = delete;

    /// False when libcurl could not start; perform then always fails.
    bool ok() const { return curl_ != nullptr; }

    /// Sends `request`. True with `answer` (any status) once an answer came;
    /// false with `error`, which names the URL and what went wrong (no
    /// answer, a timeout, a body over max_body).
    bool perform(const Request& request, Answer& answer, std::string& error);

  private:
    void* curl_;
};

}  // namespace chgate::app
