#include "http/IngestHandler.hpp"

#include <charconv>

#include "http/ApiError.hpp"
#include "http/UrlQuery.hpp"
#include "ingest/ContentDecoding.hpp"
#include "ingest/InsertQuery.hpp"

namespace chgate::http {

namespace bhttp = boost::beast::http;

namespace {

bool is_ndjson_type(std::string_view content_type) {
    const auto semi = content_type.find(';');
    auto type = content_type.substr(0, semi);
    while (!type.empty() && type.back() == ' ')
        type.remove_suffix(1);
    return type == "application/x-ndjson" || type == "application/ndjson" ||
           type == "application/jsonl" || type == "application/x-jsonlines";
}

std::string size_text(std::uint64_t bytes) {
    return std::to_string(bytes) + " bytes";
}

}  // namespace

void IngestScratch::trim() {
    constexpr std::size_t kKeepBytes = 256 * 1024;
    constexpr std::size_t kKeepRows = 16 * 1024;
    if (decoded.capacity() > kKeepBytes) std::string().swap(decoded);
    if (joined.capacity() > kKeepBytes) std::string().swap(joined);
    if (rows.capacity() > kKeepRows) std::vector<ingest::RowSlice>().swap(rows);
}

IngestHandler::IngestHandler(batch::BatchManager& manager, std::uint64_t max_body_size)
    : manager_(manager), max_body_size_(max_body_size) {}

bool IngestHandler::decode_content(const IngestInput& in, IngestScratch& scratch,
                                   std::string_view& body, Response& error) const {
    const auto encoding = ingest::parse_content_encoding(in.content_encoding);
    if (encoding == ingest::ContentEncoding::unsupported) {
        error = error_response(ApiError::unsupported_encoding,
                               "Content-Encoding \"" + std::string(in.content_encoding) +
                                   "\" is not supported; use gzip, deflate, zstd or none");
        return false;
    }
    if (encoding == ingest::ContentEncoding::identity) {
        body = in.body;
        return true;
    }
    switch (ingest::decompress(encoding, in.body, max_body_size_, scratch.decoded)) {
        case ingest::InflateResult::ok:
            body = scratch.decoded;
            return true;
        case ingest::InflateResult::too_large:
            error = error_response(ApiError::body_too_large,
                                   "the decompressed body is larger than server.max_body_size (" +
                                       size_text(max_body_size_) + ")");
            return false;
        case ingest::InflateResult::corrupt:
            error = error_response(
                ApiError::bad_request,
                "the body is not valid " + std::string(in.content_encoding) + " data");
            return false;
    }
    return false;
}

std::optional<Response> IngestHandler::ingest(const batch::Route& route,
                                              std::string_view table_label, std::string_view data,
                                              ingest::BodyFormat format, IngestScratch& scratch) {
    switch (route.error) {
        case batch::RouteError::none:
            break;
        case batch::RouteError::bad_name:
            return error_response(ApiError::bad_request,
                                  std::string(1, '"').append(table_label) +
                                      "\" is not a table name: use [A-Za-z_][A-Za-z0-9_]*, "
                                      "optionally as db.table");
        case batch::RouteError::unknown_table:
            return error_response(
                ApiError::unknown_table,
                "table " + std::string(table_label) + " is not configured (batching.tables)",
                "\"table\":\"" + json_escape(table_label) + "\"");
        case batch::RouteError::too_many_tables:
            return error_response(
                ApiError::too_many_tables,
                "too many tables (batching.max_tables); not creating " + std::string(table_label));
    }
    ingest::DecodeError decode_error;
    if (!ingest::decode_body(data, format, scratch.rows, decode_error)) {
        return error_response(ApiError::bad_json, decode_error.message,
                              "\"index\":" + std::to_string(decode_error.index) +
                                  ",\"offset\":" + std::to_string(decode_error.offset));
    }
    const auto admission = manager_.append(*route.buffer, data, scratch.rows, batch::Clock::now());
    const auto& table = route.buffer->table();
    switch (admission) {
        case batch::Admission::ok:
            return std::nullopt;
        case batch::Admission::too_large:
            return error_response(ApiError::body_too_large,
                                  "the events are larger than table " + table.name() +
                                      "'s max_memory (" + size_text(table.config().max_memory) +
                                      "); send smaller requests");
        case batch::Admission::table_full:
            return error_response(ApiError::table_full,
                                  "table " + table.name() +
                                      " has its max_memory in use while ClickHouse catches up; "
                                      "retry later");
        case batch::Admission::gateway_full:
            return error_response(ApiError::gateway_full,
                                  "the gateway has batching.max_memory in use while ClickHouse "
                                  "catches up; retry later");
    }
    return std::nullopt;
}

Response IngestHandler::post_events(std::string_view table, const IngestInput& in,
                                    IngestScratch& scratch) {
    std::string_view body;
    Response error;
    if (!decode_content(in, scratch, body, error)) return error;
    const auto format =
        is_ndjson_type(in.content_type) ? ingest::BodyFormat::ndjson : ingest::BodyFormat::detect;
    if (auto failed = ingest(manager_.route(table), table, body, format, scratch)) return *failed;
    Response r;
    r.status = bhttp::status::accepted;
    char buf[24];
    auto* end = std::to_chars(buf, buf + sizeof buf, scratch.rows.size()).ptr;
    r.body.reserve(16 + static_cast<std::size_t>(end - buf));
    r.body.append("{\"accepted\":").append(buf, end).append("}");
    return r;
}

Response IngestHandler::post_insert(std::string_view url_query, const IngestInput& in,
                                    IngestScratch& scratch) {
    if (auto d = query_param(url_query, "decompress"); d && *d == "1") {
        return error_response(ApiError::unsupported_encoding,
                              "ClickHouse's native compression (decompress=1) is not supported; "
                              "use Content-Encoding: gzip or zstd");
    }
    std::string_view body;
    Response error;
    if (!decode_content(in, scratch, body, error)) return error;

    // The statement comes in the URL, or, as clickhouse-bulk takes it, at the
    // start of the body with the rows after it.
    const auto query = query_param(url_query, "query");
    ingest::InsertQuery insert;
    std::string parse_error;
    std::string_view data;
    if (query) {
        if (!ingest::parse_insert_query(*query, insert, parse_error)) {
            return error_response(ApiError::bad_request, parse_error);
        }
        data = body;
        // ClickHouse joins the query text and the body; rows may start in either.
        if (!insert.data.empty()) {
            scratch.joined.assign(insert.data).append("\n").append(body);
            data = scratch.joined;
        }
    } else {
        if (!ingest::parse_insert_query(body, insert, parse_error)) {
            return error_response(
                ApiError::bad_request,
                "no ?query= parameter, and the body does not start with one: " + parse_error);
        }
        data = insert.data;
    }
    // ClickHouse answers an INSERT without rows with 200; some clients send them.
    if (data.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        Response ok;
        ok.content_type = "text/plain; charset=UTF-8";
        return ok;
    }
    if (insert.table.database.empty()) {
        if (auto db = query_param(url_query, "database"); db && !db->empty()) {
            if (!ingest::is_identifier(*db)) {
                return error_response(ApiError::bad_request,
                                      "database \"" + *db + "\" is not an identifier");
            }
            insert.table.database = *db;
        }
    }
    const std::string label = insert.table.database.empty()
                                  ? insert.table.table
                                  : insert.table.database + "." + insert.table.table;
    if (auto failed = ingest(manager_.route(insert.table, insert.columns), label, data,
                             ingest::BodyFormat::ndjson, scratch)) {
        return *failed;
    }
    Response ok;  // ClickHouse answers a successful INSERT with 200 and no body
    ok.content_type = "text/plain; charset=UTF-8";
    return ok;
}

}  // namespace chgate::http
