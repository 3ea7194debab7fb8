#include "config/UrlCredentials.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace chgate::config {

std::optional<UrlParts> split_userinfo(std::string_view text, std::string& error) {
    const auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed) {
        error = "is not a URL (" + parsed.error().message() + ")";
        return std::nullopt;
    }
    UrlParts out;
    boost::urls::url u(*parsed);
    if (u.has_userinfo()) {
        out.has_userinfo = true;
        out.user = u.user();
        out.password = u.password();
        u.remove_userinfo();
    }
    out.url = std::string(u.buffer());
    return out;
}

std::string redact_url(std::string_view text) {
    std::string error;
    const auto parts = split_userinfo(text, error);
    return parts ? parts->url : "(unparsable URL)";
}

}  // namespace chgate::config
