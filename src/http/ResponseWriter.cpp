#include "http/ResponseWriter.hpp"

#include <boost/beast/http/status.hpp>
#include <charconv>

namespace chgate::http {

namespace {

void append_number(std::string& out, unsigned long long n) {
    char buf[24];
    char* end = std::to_chars(buf, buf + sizeof buf, n).ptr;
    out.append(buf, end);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

void write_response(const Response& r, Framing framing, std::string& out) {
    out.clear();
    out.append(framing.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    append_number(out, static_cast<unsigned>(r.status));
    out.push_back(' ');
    const auto reason = boost::beast::http::obsolete_reason(r.status);
    out.append(reason.data(), reason.size()).append("\r\n");
    append_header(out, "Server", "chgate");
    append_header(out, "Content-Type", r.content_type);
    if (r.retry_after_seconds > 0) {
        out.append("Retry-After: ");
        append_number(out, static_cast<unsigned long long>(r.retry_after_seconds));
        out.append("\r\n");
    }
    if (r.allow != nullptr) append_header(out, "Allow", r.allow);
    if (r.idempotent_replayed) append_header(out, "Idempotent-Replayed", "true");
    if (r.www_authenticate != nullptr) append_header(out, "WWW-Authenticate", r.www_authenticate);
    out.append(r.extra_headers);
    out.append("Content-Length: ");
    append_number(out, r.body.size());
    out.append("\r\n");
    // HTTP/1.1 keeps the connection unless told; HTTP/1.0 closes it unless told.
    if (framing.version == 10 && framing.keep_alive) append_header(out, "Connection", "keep-alive");
    if (framing.version != 10 && !framing.keep_alive) append_header(out, "Connection", "close");
    out.append("\r\n");
    if (!framing.head) out.append(r.body);
}

}  // namespace chgate::http
