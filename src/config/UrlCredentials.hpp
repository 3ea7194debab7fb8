#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chgate::config {

/// A URL split from the credentials written into it (http://user:pw@host).
struct UrlParts {
    std::string url;  ///< without user info: safe to print, log and show
    bool has_userinfo = false;
    std::string user;      ///< percent-decoded
    std::string password;  ///< percent-decoded
};

/// Splits `url` (an absolute http:// or https:// URL); nullopt with `error`
/// when it does not parse. `error` never quotes the user info.
std::optional<UrlParts> split_userinfo(std::string_view url, std::string& error);

/// `url` without any user info, for every place a URL is shown; what does
/// not parse as a URL is shown as "(unparsable URL)".
std::string redact_url(std::string_view url);

}  // namespace chgate::config
