#include "http/ApiError.hpp"

namespace chgate::http {

namespace bhttp = boost::beast::http;

bhttp::status to_http_status(ApiError e) {
    switch (e) {
        case ApiError::bad_json:
        case ApiError::bad_request:
            return bhttp::status::bad_request;
        case ApiError::unknown_table:
        case ApiError::not_found:
            return bhttp::status::not_found;
        case ApiError::method_not_allowed:
            return bhttp::status::method_not_allowed;
        case ApiError::body_too_large:
            return bhttp::status::payload_too_large;
        case ApiError::header_too_large:
            return bhttp::status::request_header_fields_too_large;
        case ApiError::unsupported_encoding:
            return bhttp::status::unsupported_media_type;
        case ApiError::table_full:
        case ApiError::rate_limited:
            return bhttp::status::too_many_requests;
        case ApiError::gateway_full:
        case ApiError::too_many_tables:
        case ApiError::starting:
        case ApiError::draining:
        case ApiError::storage_failed:
            return bhttp::status::service_unavailable;
        case ApiError::rejected_by_clickhouse:
            return bhttp::status::bad_gateway;
        case ApiError::not_committed:
            return bhttp::status::gateway_timeout;
        case ApiError::unauthorized:
            return bhttp::status::unauthorized;
        case ApiError::conflict:
            return bhttp::status::conflict;
        case ApiError::forbidden:
            return bhttp::status::forbidden;
        case ApiError::internal:
            return bhttp::status::internal_server_error;
        case ApiError::not_supported:
            return bhttp::status::not_implemented;
    }
    return bhttp::status::internal_server_error;
}

std::string client_quote(std::string_view client_text) {
    constexpr std::size_t kMax = 256;
    std::string out = "\"";
    out.append(client_text.substr(0, kMax));
    if (client_text.size() > kMax) out += "…";
    return out + "\"";
}

Response error_response(ApiError e, const std::string& message, const std::string& extra_json) {
    Response r;
    r.status = to_http_status(e);
    r.body = "{\"error\":\"" + json_escape(message) + "\"";
    if (!extra_json.empty()) r.body += "," + extra_json;
    r.body += "}";
    if (e == ApiError::table_full || e == ApiError::gateway_full ||
        e == ApiError::too_many_tables || e == ApiError::starting || e == ApiError::draining ||
        e == ApiError::storage_failed) {
        r.retry_after_seconds = 1;
    }
    if (e == ApiError::method_not_allowed) r.allow = "POST";
    return r;
}

}  // namespace chgate::http
