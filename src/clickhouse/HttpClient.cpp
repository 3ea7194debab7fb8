#include "clickhouse/HttpClient.hpp"

#include <curl/curl.h>

#include <charconv>
#include <memory>
#include <stdexcept>

#include "clickhouse/InsertRequest.hpp"

namespace chgate::clickhouse {
namespace {

struct Exchange {
    HttpResponse* response;
    std::size_t max_body;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    auto* r = exchange->response;
    const auto n = size * count;
    const auto room = exchange->max_body - r->body.size();
    r->body.append(data, std::min(n, room));
    if (n > room) r->truncated = true;
    return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* r = static_cast<Exchange*>(user)->response;
    const auto n = size * count;
    std::string_view line(data, n);
    constexpr std::string_view kName = "x-clickhouse-exception-code:";
    if (line.size() > kName.size()) {
        bool match = true;
        for (std::size_t i = 0; i < kName.size() && match; ++i) {
            match = (line[i] | 0x20) == kName[i] || line[i] == kName[i];
        }
        if (match) {
            auto value = line.substr(kName.size());
            while (!value.empty() && value.front() == ' ')
                value.remove_prefix(1);
            int code = 0;
            auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), code);
            if (ec == std::errc{} && ptr != value.data()) r->exception_code = code;
        }
    }
    return n;
}

}  // namespace

void HttpClient::global_init() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        throw std::runtime_error("curl_global_init failed");
    }
}

HttpClient::HttpClient(Credentials credentials, std::chrono::milliseconds timeout,
                       config::ClientTlsConfig tls)
    : credentials_(std::move(credentials)),
      timeout_(timeout),
      tls_(std::move(tls)),
      curl_(curl_easy_init()) {
    if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
}

HttpClient::~HttpClient() {
    curl_easy_cleanup(static_cast<CURL*>(curl_));
}

namespace {

struct SlistFree {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Headers = std::unique_ptr<curl_slist, SlistFree>;

void append_header(Headers& headers, const char* line) {
    auto* grown = curl_slist_append(headers.get(), line);
    if (grown == nullptr) throw std::bad_alloc();
    (void)headers.release();
    headers.reset(grown);
}

}  // namespace

void HttpClient::set_options(const std::string& url, std::string_view body, curl_slist* headers,
                             void* exchange) {
    auto* curl = static_cast<CURL*>(curl_);
    // Reset per request so no option leaks from one exchange to the next; the
    // connection cache survives a reset, which keeps the connection alive.
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<long>(timeout_.count(), 5000)));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, exchange);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, exchange);
    // clickhouse.tls, for https:// URLs (ignored for http://).
    if (!tls_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, tls_.ca_file.c_str());
    if (!tls_.cert_file.empty()) {
        curl_easy_setopt(curl, CURLOPT_SSLCERT, tls_.cert_file.c_str());
        curl_easy_setopt(curl, CURLOPT_SSLKEY, tls_.key_file.c_str());
    }
    if (!tls_.verify) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

HttpResponse HttpClient::perform(const std::string& url, std::string_view body,
                                 const std::vector<std::string>& extra_headers,
                                 std::size_t max_answer) {
    auto* curl = static_cast<CURL*>(curl_);
    HttpResponse response;
    Exchange exchange{&response, max_answer};

    Headers headers;
    const auto user = "X-ClickHouse-User: " + credentials_.user;
    const auto key = "X-ClickHouse-Key: " + credentials_.password;
    append_header(headers, user.c_str());
    append_header(headers, key.c_str());
    // No "Expect: 100-continue" round trip before large bodies.
    append_header(headers, "Expect:");
    for (const auto& h : extra_headers)
        append_header(headers, h.c_str());
    set_options(url, body, headers.get(), &exchange);

    const auto started = std::chrono::steady_clock::now();
    const CURLcode rc = curl_easy_perform(curl);
    response.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (rc != CURLE_OK) {
        response.transport_ok = false;
        response.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        response.transport_error = curl_easy_strerror(rc);
        return response;
    }
    response.transport_ok = true;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

HttpResponse HttpClient::post(const std::string& url, std::string_view body,
                              const char* content_encoding) {
    std::vector<std::string> headers;
    if (content_encoding != nullptr) {
        headers.push_back(std::string("Content-Encoding: ") + content_encoding);
    }
    return perform(url, body, headers, kMaxErrorAnswer);
}

HttpResponse HttpClient::query(const std::string& base_url, std::string_view sql,
                               std::size_t max_answer, std::string_view database) {
    std::string url = base_url + "/";
    if (!database.empty()) url.append("?database=").append(database);
    return perform(url, sql, {}, max_answer);
}

}  // namespace chgate::clickhouse
