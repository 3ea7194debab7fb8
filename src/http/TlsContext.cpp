#include "http/TlsContext.hpp"

#include <openssl/ssl.h>

#include <stdexcept>

namespace chgate::http {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_server_tls_context(const config::ServerTlsConfig& tls) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    auto step = [&](const std::string& what, auto&& f) {
        boost::system::error_code ec;
        f(ec);
        if (ec) throw std::runtime_error("server.tls: " + what + ": " + ec.message());
    };
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                     ssl::context::single_dh_use);
    step("cert_file " + tls.cert_file,
         [&](auto& ec) { ctx->use_certificate_chain_file(tls.cert_file, ec); });
    step("key_file " + tls.key_file,
         [&](auto& ec) { ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec); });
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
        throw std::runtime_error("server.tls: key_file " + tls.key_file +
                                 " does not belong to the certificate in " + tls.cert_file);
    }
    if (!tls.client_ca_file.empty()) {
        step("client_ca_file " + tls.client_ca_file,
             [&](auto& ec) { ctx->load_verify_file(tls.client_ca_file, ec); });
        step("client certificates", [&](auto& ec) {
            ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
        });
    }
    // An idle connection keeps no TLS record buffers.
    SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

}  // namespace chgate::http
