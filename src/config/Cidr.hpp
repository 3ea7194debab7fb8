#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chgate::config {

/// An address range, "10.0.0.0/8", "2001:db8::/32", or one address ("127.0.0.1").
struct Cidr {
    boost::asio::ip::address network;
    unsigned prefix = 0;

    /// Whether `address` is in the range. An IPv4 client seen on an IPv6
    /// socket (::ffff:10.1.2.3) matches IPv4 ranges.
    bool contains(const boost::asio::ip::address& address) const;
};

/// Parses one range; nullopt with `error` set when it is not one.
std::optional<Cidr> parse_cidr(std::string_view text, std::string& error);

/// Whether `address` is in any of `ranges`; true when there are none.
bool allowed(const std::vector<Cidr>& ranges, const boost::asio::ip::address& address);

/// Whether a listen host ("127.0.0.1", "::1", "0.0.0.0") is a loopback address,
/// reachable from this machine only.
bool is_loopback_host(const std::string& host);

}  // namespace chgate::config
