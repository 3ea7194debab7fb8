#pragma once

#include <ostream>  // boost/beast/http/status.hpp needs it in Boost 1.81

#include <boost/beast/http/status.hpp>
#include <string>

#include "http/Response.hpp"
#include "util/Text.hpp"

namespace chgate::http {

/// Every way a request can fail, mapped to a status in one place.
enum class ApiError {
    bad_json,                ///< 400: an event is not a JSON object, or not valid JSON
    bad_request,             ///< 400: a bad table name, query or parameter
    unknown_table,           ///< 404: not configured, and unknown_tables: reject
    not_found,               ///< 404: no such path
    method_not_allowed,      ///< 405
    body_too_large,          ///< 413: over server.max_body_size (before or after decoding)
    header_too_large,        ///< 431: over server.max_header_size
    unsupported_encoding,    ///< 415: a Content-Encoding chgate does not decode
    table_full,              ///< 429: the table's max_memory is in use
    rate_limited,            ///< 429: the token is past its rate
    gateway_full,            ///< 503: batching.max_memory is in use
    too_many_tables,         ///< 503: batching.max_tables reached
    starting,                ///< 503: the write-ahead log is being replayed
    draining,                ///< 503: POST /admin/drain: this instance takes no more events
    storage_failed,          ///< 503: the write-ahead log could not be written
    rejected_by_clickhouse,  ///< 502: ack committed, and ClickHouse refused the rows
    not_committed,           ///< 504: ack committed, and no commit in time
    unauthorized,            ///< 401: no valid token (ingest, /admin/, /metrics)
    conflict,                ///< 409: a request with the same Idempotency-Key is in progress
    forbidden,      ///< 403: a table outside the token's globs; a wrong admin token; an address not
                    ///< allowed
    internal,       ///< 500: a request's answer was lost inside chgate (a bug)
    not_supported,  ///< 501: an ack level the server cannot back (committed through a
                    ///< Distributed table, on a server without insert_distributed_sync)
};

boost::beast::http::status to_http_status(ApiError e);

/// Text a client sent, quoted for an error message and cut at 256 bytes, so
/// that an answer never grows with what a client sends. (error_response
/// escapes it.)
std::string client_quote(std::string_view client_text);

/// {"error": message} with the status for `e`; extra fields go in `extra_json`
/// (already serialized members, e.g. "\"index\":3,\"offset\":120").
Response error_response(ApiError e, const std::string& message, const std::string& extra_json = {});

}  // namespace chgate::http
