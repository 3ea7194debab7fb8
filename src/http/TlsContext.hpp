#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "config/Config.hpp"

namespace chgate::http {

/// The OpenSSL context for serving HTTPS with server.tls: the certificate chain
/// and key (checked to match), TLS 1.2 at least, and with client_ca_file,
/// client certificates required and checked against it (mTLS). Buffers are
/// released while a connection is idle. Throws std::runtime_error with a
/// message an operator can act on.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(
    const config::ServerTlsConfig& tls);

}  // namespace chgate::http
