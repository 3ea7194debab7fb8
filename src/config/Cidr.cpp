#include "config/Cidr.hpp"

#include <charconv>

namespace chgate::config {

namespace ip = boost::asio::ip;

namespace {

// IPv4 as itself, also when it comes as an IPv4-mapped IPv6 address.
ip::address plain(const ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return ip::make_address_v4(ip::v4_mapped, a.to_v6());
    }
    return a;
}

template <std::size_t N>
bool prefix_matches(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b,
                    unsigned prefix) {
    for (std::size_t i = 0; i < N && prefix > 0; ++i) {
        const unsigned bits = prefix >= 8 ? 8 : prefix;
        const auto mask = static_cast<unsigned char>(0xFF << (8 - bits));
        if ((a[i] & mask) != (b[i] & mask)) return false;
        prefix -= bits;
    }
    return true;
}

}  // namespace

bool Cidr::contains(const ip::address& address) const {
    const auto a = plain(address);
    if (a.is_v4() != network.is_v4()) return false;
    if (a.is_v4()) return prefix_matches(a.to_v4().to_bytes(), network.to_v4().to_bytes(), prefix);
    return prefix_matches(a.to_v6().to_bytes(), network.to_v6().to_bytes(), prefix);
}

std::optional<Cidr> parse_cidr(std::string_view text, std::string& error) {
    const auto slash = text.find('/');
    boost::system::error_code ec;
    const auto address = ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec) {
        // Appended, not "…" + std::string: gcc 12 -O3 warns (-Wrestrict) about that.
        error.assign(1, '"').append(text).append(
            "\" is not an address or range (write 10.0.0.0/8, 192.168.1.7 or fd00::/8)");
        return std::nullopt;
    }
    Cidr out{plain(address), 0};
    const unsigned max = out.network.is_v4() ? 32 : 128;
    out.prefix = max;
    if (slash != std::string_view::npos) {
        const auto bits = text.substr(slash + 1);
        unsigned prefix = 0;
        auto [ptr, err] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
        if (err != std::errc{} || ptr != bits.data() + bits.size() || bits.empty() ||
            prefix > max) {
            error.assign(1, '"').append(text).append("\": the prefix length must be 0 to ");
            error.append(std::to_string(max));
            return std::nullopt;
        }
        out.prefix = prefix;
    }
    return out;
}

bool allowed(const std::vector<Cidr>& ranges, const ip::address& address) {
    if (ranges.empty()) return true;
    for (const auto& r : ranges) {
        if (r.contains(address)) return true;
    }
    return false;
}

bool is_loopback_host(const std::string& host) {
    boost::system::error_code ec;
    const auto a = ip::make_address(host, ec);
    return !ec && plain(a).is_loopback();
}

}  // namespace chgate::config
