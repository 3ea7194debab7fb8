#include "config/ListenAddress.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace chgate::config {
namespace {
// Built by append: GCC 12 warns falsely (-Wrestrict, GCC bug 105651) on "\"" + str.
std::string quoted(const std::string& s) {
    std::string out(1, '"');
    out.append(s).push_back('"');
    return out;
}
}  // namespace

std::optional<ListenAddress> parse_listen_address(const std::string& text, std::string& error) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 == text.size()) {
        error = quoted(text) + " must be host:port, like 0.0.0.0:8080 or [::1]:8080";
        return std::nullopt;
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    if (ec) {
        error = quoted(host) + " is not an IP address (chgate binds addresses, not host names)";
        return std::nullopt;
    }
    unsigned port = 0;
    const char* begin = text.data() + colon + 1;
    const char* end = text.data() + text.size();
    auto [ptr, ec2] = std::from_chars(begin, end, port);
    if (ec2 != std::errc{} || ptr != end || port > 65535) {
        error = quoted(std::string(begin, end)) + " is not a port number (0-65535)";
        return std::nullopt;
    }
    return ListenAddress{host, static_cast<std::uint16_t>(port)};
}

}  // namespace chgate::config
