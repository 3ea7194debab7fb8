#include "app/Drain.hpp"

#include <curl/curl.h>

#include <memory>
#include <ostream>

#include "config/ListenAddress.hpp"

namespace chgate::app {

std::string drain_url(const config::Config& config, std::chrono::milliseconds timeout,
                      std::string& error) {
    const auto address = config::parse_listen_address(config.server.listen, error);
    if (!address) return {};
    if (address->port == 0) {
        error = "server.listen (" + config.server.listen +
                ") has port 0, chosen by the system at start: chgate drain cannot know it; "
                "POST /admin/drain to the port in the log's \"listening on\" line";
        return {};
    }
    const auto& tls = config.server.tls;
    if (!tls.client_ca_file.empty()) {
        error =
            "server.tls.client_ca_file is set: chgate asks for a client certificate, which "
            "chgate drain has none of; POST /admin/drain with a client that has one";
        return {};
    }
    std::string host = address->host;
    if (host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
    return std::string(tls.enabled() ? "https://" : "http://") + host + ":" +
           std::to_string(address->port) + "/admin/drain?timeout=" + std::to_string(seconds) + "s";
}

namespace {
std::size_t append_to(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}
}  // namespace

int run_drain(const config::Config& config, std::chrono::milliseconds timeout,
              const std::string& token, std::ostream& out, std::ostream& err) {
    std::string error;
    const auto url = drain_url(config, timeout, error);
    if (url.empty()) {
        err << "chgate drain: " << error << "\n";
        return 1;
    }
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr,
                                                                        curl_slist_free_all);
    if (!curl) {
        err << "chgate drain: cannot start libcurl\n";
        return 1;
    }
    if (!token.empty()) {
        const auto auth = "Authorization: Bearer " + token;
        headers.reset(curl_slist_append(nullptr, auth.c_str()));
        curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    }
    std::string body;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POST, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append_to);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    // The answer comes once drained: wait the drain's timeout, and some.
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count() + 30'000));
    // Loopback, to the certificate chgate itself serves: nothing to verify
    // it against but the configuration the caller already trusts.
    curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 0L);
    const auto rc = curl_easy_perform(curl.get());
    if (rc != CURLE_OK) {
        err << "chgate drain: " << url << ": " << curl_easy_strerror(rc) << "\n";
        return 1;
    }
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    out << body << (body.ends_with('\n') ? "" : "\n");
    if (status == 200) return 0;
    err << "chgate drain: answered " << status
        << (status == 401 || status == 403 ? " (set CHGATE_ADMIN_TOKEN to admin.token)" : "")
        << "\n";
    return 1;
}

}  // namespace chgate::app
