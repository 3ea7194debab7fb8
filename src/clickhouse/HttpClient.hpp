#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/HttpResponse.hpp"
#include "config/Config.hpp"

struct curl_slist;

namespace chgate::clickhouse {

/// One keep-alive HTTP connection to ClickHouse through a libcurl easy handle.
/// Blocking: used only on flusher and probe threads, never on io threads.
/// Not thread-safe; each thread owns its own.
class HttpClient {
  public:
    struct Credentials {
        std::string user;
        std::string password;
    };

    /// `tls` is clickhouse.tls, for https:// URLs.
    HttpClient(Credentials credentials, std::chrono::milliseconds timeout,
               config::ClientTlsConfig tls = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// POSTs `body`; content_encoding may be nullptr.
    HttpResponse post(const std::string& url, std::string_view body, const char* content_encoding);

    /// What is kept of an INSERT's answer (error texts are short), and by
    /// default of a query's.
    static constexpr std::size_t kMaxErrorAnswer = 64 * 1024;

    /// Runs a query and returns its text output, cut at `max_answer` bytes
    /// (then HttpResponse::truncated is set). Unqualified names are in
    /// `database` (an identifier), or the user's default when it is empty.
    HttpResponse query(const std::string& base_url, std::string_view sql,
                       std::size_t max_answer = kMaxErrorAnswer, std::string_view database = {});

    /// Must be called once per process, before any thread makes a client.
    static void global_init();

  private:
    HttpResponse perform(const std::string& url, std::string_view body,
                         const std::vector<std::string>& extra_headers, std::size_t max_answer);
    /// Sets every option of one exchange on the handle, after a reset.
    void set_options(const std::string& url, std::string_view body, curl_slist* headers,
                     void* exchange);

    Credentials credentials_;
    std::chrono::milliseconds timeout_;
    config::ClientTlsConfig tls_;
    void* curl_;  // CURL*, kept opaque so this header does not pull in curl.h
};

}  // namespace chgate::clickhouse
