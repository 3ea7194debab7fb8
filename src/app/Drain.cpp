#include "app/Drain.hpp"

#include <ostream>

#include "app/CommandClient.hpp"
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

int run_drain(const config::Config& config, std::chrono::milliseconds timeout,
              const std::string& token, std::ostream& out, std::ostream& err) {
    std::string error;
    const auto url = drain_url(config, timeout, error);
    if (url.empty()) {
        err << "chgate drain: " << error << "\n";
        return 1;
    }
    CommandClient client;
    CommandClient::Request request;
    request.method = "POST";
    request.url = url;
    request.token = token;
    // The answer comes once drained: wait the drain's timeout, and some.
    request.timeout = timeout + std::chrono::seconds(30);
    // Loopback, to the certificate chgate itself serves: nothing to verify
    // it against but the configuration the caller already trusts.
    request.verify_tls = false;
    CommandClient::Answer answer;
    if (!client.perform(request, answer, error)) {
        err << "chgate drain: " << error << "\n";
        return 1;
    }
    const auto& body = answer.body;
    const long status = answer.status;
    out << body << (body.ends_with('\n') ? "" : "\n");
    if (status == 200) return 0;
    err << "chgate drain: answered " << status
        << (status == 401 || status == 403 ? " (set CHGATE_ADMIN_TOKEN to admin.token)" : "")
        << "\n";
    return 1;
}

}  // namespace chgate::app
