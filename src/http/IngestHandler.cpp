#include "http/IngestHandler.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <random>
#include <regex>
#include <unordered_map>

#include "core/EnumNames.hpp"
#include "core/TableName.hpp"
#include "http/ApiError.hpp"
#include "http/RowChecks.hpp"
#include "http/UrlQuery.hpp"
#include "ingest/ColumnInference.hpp"
#include "ingest/ContentDecoding.hpp"
#include "ingest/InsertQuery.hpp"
#include "ingest/ShardKey.hpp"
#include "schema/SchemaEvolver.hpp"
#include "store/Wal.hpp"

namespace chgate::http {

namespace bhttp = boost::beast::http;

namespace {

// schema_evolution: at most this many new fields per event become columns
// (the limits on the table come first), and no name longer than this.
constexpr std::size_t kMaxNewFieldsPerEvent = 64;
constexpr std::size_t kMaxNewColumnName = 200;

// Whether all of `name` matches new_column_pattern. The config checked that
// it compiles; each io thread keeps the few patterns the tables use.
bool matches_pattern(const std::string& pattern, const std::string& name) {
    thread_local std::unordered_map<std::string, std::regex> compiled;
    auto it = compiled.find(pattern);
    if (it == compiled.end()) {
        if (compiled.size() >= 64) compiled.clear();
        try {
            it = compiled.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
        } catch (const std::regex_error&) {
            return false;
        }
    }
    try {
        return std::regex_match(name, it->second);
    } catch (const std::regex_error&) {
        return false;  // too complex for std::regex (error_complexity, error_stack)
    }
}

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

std::optional<config::AckLevel> parse_ack(std::string_view s) {
    config::AckLevel level{};
    if (!core::value_of(config::kAckNames, s, level)) return std::nullopt;
    return level;
}

// What success looks like: ClickHouse's empty 200 on the compatible endpoint;
// 202 {"accepted": N} here, or 200 once committed.
Response success(Dialect dialect, config::AckLevel ack, std::size_t accepted) {
    Response r;
    if (dialect == Dialect::clickhouse) {
        r.content_type = "text/plain; charset=UTF-8";
        return r;
    }
    char buf[24];
    auto* end = std::to_chars(buf, buf + sizeof buf, accepted).ptr;
    r.body.append("{\"accepted\":").append(buf, end);
    if (ack == config::AckLevel::committed) {
        r.body.append(",\"committed\":").append(buf, end);
    } else {
        r.status = bhttp::status::accepted;
    }
    r.body.append("}");
    return r;
}

// X-ClickHouse-Summary, as ClickHouse sends it (every figure a string).
// Written means committed: with ack buffered or durable nothing is in
// ClickHouse yet when the answer goes, as with its own async inserts.
void clickhouse_summary(std::size_t rows, std::size_t bytes, std::string& headers) {
    headers.append("X-ClickHouse-Summary: {\"read_rows\":\"0\",\"read_bytes\":\"0\",")
        .append("\"written_rows\":\"")
        .append(std::to_string(rows))
        .append("\",\"written_bytes\":\"")
        .append(std::to_string(bytes))
        .append(
            "\",\"total_rows_to_read\":\"0\",\"result_rows\":\"0\",\"result_bytes\":\"0\"}\r\n");
}

// A query id to answer with: the client's ?query_id=, or a new random UUID,
// as ClickHouse makes one. Empty when the client's cannot be a header value.
constexpr std::size_t kMaxQueryId = 256;

std::string query_id_for(std::string_view url_query) {
    if (auto given = query_param(url_query, "query_id"); given && !given->empty()) {
        if (given->size() > kMaxQueryId) return {};
        for (const unsigned char c : *given) {
            if (c < 0x20 || c > 0x7e) return {};
        }
        return std::move(*given);
    }
    thread_local std::mt19937_64 random{std::random_device{}()};
    const std::uint64_t hi = random(), lo = random();
    char id[37];
    std::snprintf(id, sizeof id, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0x0fff),
                  static_cast<unsigned>(0x8000 | ((lo >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    return id;
}

Response not_committed_response(std::size_t accepted, std::chrono::milliseconds timeout) {
    return error_response(ApiError::not_committed,
                          "ClickHouse has not committed the events within server.commit_timeout (" +
                              std::to_string(timeout.count()) +
                              " ms); they are kept and will be delivered",
                          "\"accepted\":" + std::to_string(accepted));
}

// Answers `reply` once the batch holding the events reports: `ok` when
// ClickHouse committed them, the reason when it did not.
flush::CommitWaiterPtr commit_waiter(ReplyPtr reply, Response ok, std::size_t accepted) {
    return std::make_shared<flush::CommitWaiter>(
        [reply = std::move(reply), ok = std::move(ok), accepted](const flush::CommitOutcome& o) {
            if (o.committed) return reply->send(ok);
            reply->send(error_response(
                o.rejected ? ApiError::rejected_by_clickhouse : ApiError::not_committed,
                o.rejected ? o.error : "ClickHouse did not commit the events: " + o.error,
                "\"accepted\":" + std::to_string(accepted)));
        });
}

// Answers `reply` once the log has written the events up to `lsn`.
void answer_when_durable(const batch::TableBuffer& buffer, std::uint64_t lsn, ReplyPtr reply,
                         Response ok) {
    buffer.wal()->when_durable(lsn, [reply = std::move(reply), ok = std::move(ok)](bool written) {
        if (written) return reply->send(ok);
        // The log failed after the events were buffered: they may still reach
        // ClickHouse, so a retry may store them twice.
        reply->send(error_response(ApiError::storage_failed,
                                   "the events could not be made durable: the write-ahead log "
                                   "failed; they stay buffered and may still be delivered"));
    });
}

// Answers `reply` once every shard's log has written its part of the events.
void answer_when_all_durable(std::span<const batch::ShardPart> parts, ReplyPtr reply, Response ok) {
    struct Join {
        std::atomic<std::size_t> left;
        std::atomic<bool> failed{false};
        ReplyPtr reply;
        Response ok;
    };
    std::size_t logged = 0;
    for (const auto& p : parts)
        logged += p.last_lsn != 0 ? 1 : 0;
    if (logged == 0) return reply->send(std::move(ok));
    auto join = std::make_shared<Join>();
    join->left = logged;
    join->reply = std::move(reply);
    join->ok = std::move(ok);
    for (const auto& p : parts) {
        if (p.last_lsn == 0) continue;
        p.buffer->wal()->when_durable(p.last_lsn, [join](bool written) {
            if (!written) join->failed = true;
            if (join->left.fetch_sub(1) != 1) return;
            if (!join->failed) return join->reply->send(std::move(join->ok));
            join->reply->send(error_response(
                ApiError::storage_failed,
                "the events could not be made durable: a shard's write-ahead log failed; they "
                "stay buffered and may still be delivered"));
        });
    }
}

}  // namespace

void IngestScratch::trim() {
    constexpr std::size_t kKeepBytes = 256 * 1024;
    constexpr std::size_t kKeepRows = 16 * 1024;
    if (decoded.capacity() > kKeepBytes) std::string().swap(decoded);
    if (joined.capacity() > kKeepBytes) std::string().swap(joined);
    if (rows.capacity() > kKeepRows) std::vector<ingest::RowSlice>().swap(rows);
    for (auto& r : shard_rows) {
        if (r.capacity() > kKeepRows) std::vector<ingest::RowSlice>().swap(r);
    }
    if (key.capacity() > kKeepBytes) std::string().swap(key);
    if (coerced.capacity() > kKeepBytes) std::string().swap(coerced);
    if (row.capacity() > kKeepBytes) std::string().swap(row);
}

IngestHandler::IngestHandler(batch::BatchManager& manager, const Access& access,
                             std::uint64_t max_body_size, std::chrono::milliseconds commit_timeout,
                             std::chrono::milliseconds idempotency_window,
                             std::size_t idempotency_max_keys,
                             DistributedSyncMissing distributed_sync_missing)
    : manager_(manager),
      access_(access),
      max_body_size_(max_body_size),
      commit_timeout_(commit_timeout),
      idempotency_(idempotency_window, idempotency_max_keys),
      distributed_sync_missing_(std::move(distributed_sync_missing)) {}

namespace {

// A deferred answer under an Idempotency-Key: what is sent is also kept. If it
// goes away unanswered, the key is forgotten, so that a retry is processed.
class RecordingReply : public Reply {
  public:
    RecordingReply(ReplyPtr inner, IdempotencyCache& cache, std::string key)
        : inner_(std::move(inner)), cache_(cache), key_(std::move(key)) {}
    ~RecordingReply() override {
        if (!sent_) cache_.forget(key_);
    }
    void send(Response r) override {
        if (sent_.exchange(true)) return;
        cache_.complete(key_, r, IdempotencyCache::Clock::now());
        inner_->send(std::move(r));
    }

  private:
    ReplyPtr inner_;
    IdempotencyCache& cache_;
    std::string key_;
    std::atomic<bool> sent_{false};
};

bool valid_idempotency_key(std::string_view key) {
    if (key.empty() || key.size() > 255) return false;
    return std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

template <typename Process>
std::optional<Response> IngestHandler::idempotently(const IngestInput& in, Process&& process) {
    if (in.idempotency_key.empty()) return process(in);
    if (!valid_idempotency_key(in.idempotency_key)) {
        return error_response(ApiError::bad_request,
                              "Idempotency-Key must be 1 to 255 visible ASCII characters");
    }
    // Per caller and per table: another app's key, or another table's, is
    // another request.
    const auto key = (in.caller != nullptr ? in.caller->name() : std::string()) + "\n" +
                     std::string(in.scope) + "\n" + std::string(in.idempotency_key);
    Response stored;
    switch (idempotency_.claim(key, IdempotencyCache::Clock::now(), stored)) {
        case IdempotencyCache::Claim::answered:
            stored.idempotent_replayed = true;
            return stored;
        case IdempotencyCache::Claim::in_progress:
            return error_response(ApiError::conflict,
                                  "a request with this Idempotency-Key is still in progress");
        case IdempotencyCache::Claim::fresh:
            break;
    }
    // Answers given later go through a RecordingReply, so they are kept too.
    const Defer* outer = in.defer;
    const Defer recording = [&](std::chrono::milliseconds timeout,
                                Response on_timeout) -> ReplyPtr {
        return std::make_shared<RecordingReply>((*outer)(timeout, std::move(on_timeout)),
                                                idempotency_, key);
    };
    IngestInput wrapped = in;
    wrapped.defer = &recording;
    auto answer = process(wrapped);
    if (answer) idempotency_.complete(key, *answer, IdempotencyCache::Clock::now());
    return answer;
}

bool IngestHandler::decode_content(const IngestInput& in, IngestScratch& scratch,
                                   std::string_view& body, Response& error) const {
    if (auto refused = refuse_encoding(in.content_encoding)) {
        error = std::move(*refused);
        return false;
    }
    const auto encoding = ingest::parse_content_encoding(in.content_encoding);
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
            error = error_response(ApiError::bad_request,
                                   std::string("the body is not valid ") +
                                       (encoding == ingest::ContentEncoding::gzip      ? "gzip"
                                        : encoding == ingest::ContentEncoding::deflate ? "deflate"
                                                                                       : "zstd") +
                                       " data");
            return false;
    }
    return false;
}

std::optional<Response> IngestHandler::refuse_encoding(std::string_view content_encoding) const {
    if (ingest::parse_content_encoding(content_encoding) != ingest::ContentEncoding::unsupported) {
        return std::nullopt;
    }
    return error_response(ApiError::unsupported_encoding,
                          "Content-Encoding " + client_quote(content_encoding) +
                              " is not supported; use gzip, deflate, zstd or none");
}

std::optional<Response> IngestHandler::route_error(const batch::Route& route,
                                                   std::string_view table_label) const {
    if (route.error == batch::RouteError::none) return std::nullopt;  // no copy on this path
    const std::string table(table_label);
    switch (route.error) {
        case batch::RouteError::none:
            return std::nullopt;
        case batch::RouteError::bad_name:
            return error_response(ApiError::bad_request,
                                  client_quote(table_label) +
                                      " is not a table name: use [A-Za-z_][A-Za-z0-9_]*, "
                                      "optionally as db.table");
        case batch::RouteError::name_too_long:
            return error_response(ApiError::bad_request,
                                  "the table name, with its database, is longer than " +
                                      std::to_string(core::kMaxQualifiedNameLength) +
                                      " characters");
        case batch::RouteError::storage_failed:
            return error_response(ApiError::storage_failed,
                                  "chgate cannot open the write-ahead log for table " + table +
                                      " now (" + route.detail +
                                      "); nothing was stored; retry later");
        case batch::RouteError::unknown_table:
            return error_response(ApiError::unknown_table,
                                  "table " + table + " is not configured (batching.tables)",
                                  "\"table\":\"" + json_escape(table_label) + "\"");
        case batch::RouteError::missing:
            return error_response(
                ApiError::unknown_table,
                "table " + table +
                    " does not exist in ClickHouse (it is served with batching.defaults, and "
                    "ClickHouse refused it lately); create it, or retry later",
                "\"table\":\"" + json_escape(table_label) + "\"");
        case batch::RouteError::too_many_buffers:
            return error_response(
                ApiError::bad_request,
                "table " + table + " has " +
                    std::to_string(
                        manager_.registry().live_config()->batching.max_buffers_per_table) +
                    " column lists in use already (batching.max_buffers_per_table); send rows "
                    "with one of those column lists, or with none");
        case batch::RouteError::closing:
            return error_response(ApiError::storage_failed,
                                  "this buffer of table " + table +
                                      " is being closed (idle); nothing was stored; retry");
        case batch::RouteError::no_shards:
            return error_response(ApiError::starting,
                                  "table " + table +
                                      " is sharded, and no ClickHouse server has told chgate "
                                      "the cluster's shards yet (system.clusters); nothing was "
                                      "stored; retry shortly");
        case batch::RouteError::too_many_tables:
            return error_response(ApiError::too_many_tables,
                                  "too many tables (batching.max_tables); not creating " + table);
    }
    return std::nullopt;
}

std::optional<Response> IngestHandler::refuse_route(const batch::Route& route,
                                                    std::string_view table_label, Stage stage,
                                                    const Access::Caller* caller) const {
    if (!manager_.registry().ready()) {
        return error_response(ApiError::starting,
                              "chgate is replaying its write-ahead log; retry shortly");
    }
    if (draining()) {
        return error_response(ApiError::draining,
                              "this chgate is draining (it is being stopped) and takes no more "
                              "events; send them to another instance");
    }
    if (auto refused = route_error(route, table_label)) return refused;
    const auto& table = route.buffer->table();
    // The caller's tables: 403 for another, whatever the route said.
    if (caller != nullptr) {
        if (auto refused = access_.authorize(*caller, table.database(), table.table())) {
            return refused;
        }
    }
    if (stage != Stage::headers) return std::nullopt;  // the append checks room itself
    // Before a body is read: a table or gateway with no room at all says so
    // now, rather than after the client has sent megabytes.
    if (table.held_bytes() >= table.config()->max_memory) {
        return admission_error(batch::Admission::table_full, table);
    }
    if (manager_.memory_full()) return admission_error(batch::Admission::gateway_full, table);
    return std::nullopt;
}

std::optional<Response> IngestHandler::admit_events(std::string_view table,
                                                    const IngestInput& headers) {
    if (auto refused = refuse_encoding(headers.content_encoding)) return refused;
    return refuse_route(manager_.registry().route(table), table, Stage::headers, headers.caller);
}

std::optional<Response> IngestHandler::admit_insert(std::string_view url_query,
                                                    const IngestInput& headers) {
    if (auto refused = refuse_encoding(headers.content_encoding)) return refused;
    const auto query = query_param(url_query, "query");
    if (!query) return std::nullopt;  // the statement comes in the body
    ingest::InsertQuery insert;
    std::string parse_error;
    if (!ingest::parse_insert_query(*query, insert, parse_error)) {
        return error_response(ApiError::bad_request, parse_error);
    }
    if (insert.table.database.empty()) {
        if (auto db = query_param(url_query, "database"); db && core::is_identifier(*db)) {
            insert.table.database = *db;
        }
    }
    const std::string label = insert.table.database.empty()
                                  ? insert.table.table
                                  : insert.table.database + "." + insert.table.table;
    return refuse_route(manager_.registry().route(insert.table, insert.columns), label,
                        Stage::headers, headers.caller);
}

std::optional<Response> IngestHandler::admission_error(batch::Admission admission,
                                                       const batch::Table& table) const {
    switch (admission) {
        case batch::Admission::ok:
            return std::nullopt;
        case batch::Admission::too_large:
            return error_response(ApiError::body_too_large,
                                  "the events are larger than table " + table.name() +
                                      "'s max_memory (" + size_text(table.config()->max_memory) +
                                      "); send smaller requests");
        case batch::Admission::table_full:
            return error_response(ApiError::table_full,
                                  "table " + table.name() +
                                      " has its max_memory in use while ClickHouse catches "
                                      "up; retry later");
        case batch::Admission::gateway_full:
            return error_response(ApiError::gateway_full,
                                  "the gateway has batching.max_memory in use while "
                                  "ClickHouse catches up; retry later");
        case batch::Admission::disk_full:
            return error_response(ApiError::gateway_full,
                                  "storage.max_disk is in use (write-ahead logs and spool) "
                                  "while ClickHouse catches up; retry later");
    }
    return std::nullopt;
}

std::optional<Response> IngestHandler::decode_rows(std::string_view data, ingest::BodyFormat format,
                                                   IngestScratch& scratch,
                                                   const IngestInput& in) const {
    ingest::DecodeError decode_error;
    if (!ingest::decode_body(data, format, scratch.rows, decode_error)) {
        return error_response(ApiError::bad_json, decode_error.message,
                              "\"index\":" + std::to_string(decode_error.index) +
                                  ",\"offset\":" + std::to_string(decode_error.offset));
    }
    if (in.caller == nullptr) return std::nullopt;
    // The caller's rate: events always; bytes if admit() could not (a chunked
    // body, or a test calling the handler directly).
    if (auto limited =
            access_.take(*in.caller, scratch.rows.size(), in.bytes_taken ? 0 : in.body.size(),
                         TokenBucket::Clock::now())) {
        return limited;
    }
    access_.count_request(*in.caller);
    return std::nullopt;
}

std::optional<Response> IngestHandler::choose_ack(const batch::Route& route,
                                                  std::string_view url_query,
                                                  config::AckLevel& ack) const {
    ack = route.buffer->table().config()->ack;
    if (const auto requested = query_param(url_query, "ack")) {
        const auto level = parse_ack(*requested);
        if (!level) {
            return error_response(
                ApiError::bad_request,
                "ack must be buffered, durable or committed, not " + client_quote(*requested));
        }
        ack = std::max(ack, *level);  // a request may ask for more than its table, not less
    }
    // Without a log of its own, a table can promise "durable" only by committing.
    if (ack == config::AckLevel::durable && !route.buffer->logs_appends()) {
        ack = config::AckLevel::committed;
    }
    if (ack == config::AckLevel::committed && route.buffer->table().config()->distributed &&
        distributed_sync_missing_ && distributed_sync_missing_()) {
        return error_response(
            ApiError::not_supported,
            "table " + route.buffer->table().name() +
                " is a Distributed table (distributed: true), and ClickHouse has no "
                "insert_distributed_sync: an INSERT ends before the shards have the rows, so "
                "chgate cannot promise committed; ask for ack buffered or durable");
    }
    if (ack != config::AckLevel::durable) return std::nullopt;
    // Refused before buffering, so that the retry the 503 asks for cannot
    // store the events twice.
    auto refuse_failed = [](const batch::TableBuffer& b) -> std::optional<Response> {
        if (!b.wal()->failed()) return std::nullopt;
        return error_response(ApiError::storage_failed,
                              b.label() + "'s write-ahead log failed (" + b.wal()->failure() +
                                  "); durable requests are refused until it can be written "
                                  "again; nothing was stored");
    };
    if (!route.shards) return refuse_failed(*route.buffer);
    for (const auto& b : route.shards->buffers) {
        if (auto refused = refuse_failed(*b)) return refused;
    }
    return std::nullopt;
}

std::optional<Response> IngestHandler::ingest(const IngestTarget& target, std::string_view data,
                                              IngestScratch& scratch, const IngestInput& in) {
    const auto& route = target.route;
    if (auto refused = refuse_route(route, target.label, Stage::append, in.caller)) return refused;
    if (auto refused = decode_rows(data, target.format, scratch, in)) return refused;
    const auto sent = data;
    if (auto refused = check_rows(route, data, scratch)) return refused;  // may rewrite data
    config::AckLevel ack{};
    if (auto refused = choose_ack(route, in.url_query, ack)) return refused;
    if (route.shards && !scratch.rows.empty()) {
        if (auto refused = split_shards(route, data, scratch)) return refused;
    }
    const auto accepted = scratch.rows.size();
    Response ok = success(target.dialect, ack, accepted);
    if (target.dialect == Dialect::clickhouse) {
        ok.extra_headers.assign(in.extra_headers);
        clickhouse_summary(ack == config::AckLevel::committed ? accepted : 0,
                           ack == config::AckLevel::committed ? data.size() : 0, ok.extra_headers);
    }
    if (!scratch.bad.empty()) {
        // Stored before the good events: if those are refused now, the retry
        // quarantines the bad ones again rather than losing them.
        if (auto refused = quarantine_rows(route, sent, scratch, in, ok)) return refused;
        if (accepted == 0) return ok;
    }

    flush::CommitWaiterPtr waiter;
    ReplyPtr reply;
    if (ack == config::AckLevel::committed) {
        reply = (*in.defer)(commit_timeout_, not_committed_response(accepted, commit_timeout_));
        waiter = commit_waiter(reply, ok, accepted);
    }
    std::uint64_t last_lsn = 0;
    if (auto refused = append(route, data, scratch, waiter, last_lsn)) {
        if (!reply) return refused;
        reply->send(std::move(*refused));  // nothing was buffered, so no batch reports
        return std::nullopt;
    }
    if (waiter) {
        waiter->arm();
        return std::nullopt;
    }
    if (ack != config::AckLevel::durable) return ok;
    if (route.shards) {
        answer_when_all_durable(scratch.parts, (*in.defer)({}, Response{}), ok);
        return std::nullopt;
    }
    if (last_lsn != 0) {
        answer_when_durable(*route.buffer, last_lsn, (*in.defer)({}, Response{}), ok);
        return std::nullopt;
    }
    return ok;
}

std::optional<Response> IngestHandler::check_rows(const batch::Route& route, std::string_view& data,
                                                  IngestScratch& scratch) const {
    scratch.bad.clear();
    if (row_checks_ == nullptr) return std::nullopt;
    auto& table = route.buffer->table();
    const auto cfg = table.config();
    if (cfg->schema == config::SchemaCheck::off) return std::nullopt;
    auto checker = row_checks_->checker(table, *cfg, RowChecks::Clock::now());
    if (!checker) {
        // Columns not known (yet): ClickHouse checks the rows in their batch.
        table.on_unchecked(scratch.rows.size());
        return std::nullopt;
    }
    const bool coerce = cfg->schema == config::SchemaCheck::coerce;
    const bool evolving =
        cfg->schema_evolution == config::SchemaEvolution::add_columns && evolver_ != nullptr;
    const bool quarantine =
        cfg->on_invalid == config::OnInvalid::quarantine && quarantine_ != nullptr;
    // Under coerce, once a row is rewritten the request's rows are copied
    // into `scratch.coerced` (each rewritten or as sent), and the slices
    // point there. Rewritten rows are never longer, so neither is the body.
    // Under quarantine, the rows that fit move up over those that do not.
    bool rewriting = false;
    std::uint64_t coerced_rows = 0;
    std::size_t kept = 0;
    auto move_row = [&](ingest::RowSlice& r, std::string_view text) {
        r.offset = static_cast<std::uint32_t>(scratch.coerced.size());
        r.length = static_cast<std::uint32_t>(text.size());
        scratch.coerced.append(text);
        scratch.coerced += '\n';
    };
    for (std::size_t i = 0; i < scratch.rows.size(); ++i) {
        auto r = scratch.rows[i];
        const auto row = data.substr(r.offset, r.length);
        bool changed = false;
        auto fault = coerce ? checker->coerce(row, scratch.key, scratch.row, changed)
                            : checker->check(row, scratch.key);
        // A new field that becomes a column: the event is checked again with
        // it, for the next new field or a value that does not fit.
        for (std::size_t n = 0; evolving && fault && fault->unknown && n < kMaxNewFieldsPerEvent;
             ++n) {
            std::optional<Response> refusal;
            if (!evolve(table, *cfg, *checker, row, *fault, scratch, refusal)) {
                if (refusal) return refusal;
                break;
            }
            auto fresh = row_checks_->checker(table, *cfg, RowChecks::Clock::now());
            if (!fresh) break;  // the columns went (a reload): the field stays unknown
            checker = std::move(fresh);
            fault = coerce ? checker->coerce(row, scratch.key, scratch.row, changed)
                           : checker->check(row, scratch.key);
        }
        if (!fault) {
            if (changed && !rewriting) {
                rewriting = true;
                scratch.coerced.clear();
                scratch.coerced.reserve(data.size());
                for (std::size_t j = 0; j < kept; ++j)
                    move_row(scratch.rows[j],
                             data.substr(scratch.rows[j].offset, scratch.rows[j].length));
            }
            coerced_rows += changed ? 1 : 0;
            if (rewriting) move_row(r, changed ? std::string_view(scratch.row) : row);
            scratch.rows[kept++] = r;
            continue;
        }
        if (quarantine) {
            scratch.bad.push_back({i, r, std::move(*fault)});
            continue;
        }
        table.on_invalid();
        const auto expected =
            fault->expected.empty() ? "" : " (column type " + fault->expected + ")";
        return error_response(
            ApiError::bad_request,
            "event " + std::to_string(i) + ": field " + client_quote(fault->field) + " " +
                fault->reason + expected + "; table " + table.name() +
                " checks events against its columns (schema: " +
                std::string(core::name_of(config::kSchemaCheckNames, cfg->schema)) +
                "), and nothing was stored",
            "\"index\":" + std::to_string(i) +
                ",\"offset\":" + std::to_string(row.data() - data.data() + fault->offset) +
                ",\"field\":\"" + json_escape(fault->field.substr(0, 256)) + "\",\"expected\":\"" +
                json_escape(fault->expected) + "\"");
    }
    scratch.rows.resize(kept);
    if (rewriting) {
        data = scratch.coerced;
        table.on_coerced(coerced_rows);
    }
    return std::nullopt;
}

bool IngestHandler::evolve(const batch::Table& table, const config::TableConfig& cfg,
                           const ingest::RowChecker& checker, std::string_view row,
                           ingest::RowFault& fault, IngestScratch& scratch,
                           std::optional<Response>& refusal) const {
    const auto& name = fault.field;
    if (name.size() > kMaxNewColumnName || !core::is_identifier(name) ||
        !matches_pattern(cfg.new_column_pattern, name)) {
        fault.reason =
            "is not a column of the table, and cannot become one: its name is not "
            "an identifier that matches new_column_pattern";
        return false;
    }
    const auto inferred = ingest::infer_column_type(
        row.substr(fault.value_offset, fault.value_length), checker.options(),
        cfg.schema == config::SchemaCheck::coerce, scratch.key);
    if (inferred.why_not != nullptr) {
        fault.reason = std::string(
                           "is not a column of the table, and cannot become one yet: its "
                           "value ") +
                       inferred.why_not;
        return false;
    }
    schema::SchemaEvolver::Limits limits;
    limits.max_columns = cfg.max_columns;
    limits.per_minute = cfg.max_alters_per_minute;
    if (cfg.shard_by) limits.also_table = table.table();  // the Distributed table, if any
    const auto answer =
        evolver_->propose({table.database(), table.insert_table()}, {name, inferred.type},
                          checker.columns().size(), limits, schema::SchemaEvolver::Clock::now());
    using V = schema::SchemaEvolver::Verdict;
    switch (answer.verdict) {
        case V::pending:
            return true;
        case V::rate_limited:
        case V::busy: {
            auto r = error_response(ApiError::rate_limited,
                                    "field " + client_quote(name) + " is not a column of table " +
                                        table.name() + " yet, and " + answer.reason +
                                        "; nothing was stored, retry later");
            r.retry_after_seconds = static_cast<int>(std::max<std::int64_t>(
                1, std::chrono::duration_cast<std::chrono::seconds>(answer.retry_after).count()));
            refusal = std::move(r);
            return false;
        }
        case V::too_many_columns:
        case V::failed:
            fault.reason = "is not a column of the table, and cannot become one: " + answer.reason;
            return false;
    }
    return false;
}

std::optional<Response> IngestHandler::quarantine_rows(const batch::Route& route,
                                                       std::string_view sent,
                                                       const IngestScratch& scratch,
                                                       const IngestInput& in, Response& ok) {
    auto& table = route.buffer->table();
    std::vector<std::string> reasons;
    std::vector<batch::QuarantinedRow> rows;
    reasons.reserve(scratch.bad.size());
    rows.reserve(scratch.bad.size());
    for (const auto& b : scratch.bad) {
        const auto& f = b.fault;
        reasons.push_back(f.reason +
                          (f.expected.empty() ? "" : " (column type " + f.expected + ")"));
        rows.push_back({sent.substr(b.slice.offset, b.slice.length), 0, f.field, reasons.back()});
    }
    std::string error;
    const std::string_view token = in.caller != nullptr ? in.caller->name() : std::string_view();
    if (!quarantine_->add(table, batch::QuarantineStage::ingest, "", token, rows, error)) {
        return error_response(ApiError::table_full, "table " + table.name() +
                                                        " quarantines events that do not fit its "
                                                        "columns, and " +
                                                        error + "; nothing was stored");
    }
    if (ok.body.empty() || ok.body.back() != '}') return std::nullopt;  // the ClickHouse dialect
    // {"accepted": N, "quarantined": K, "errors": [the first few]}
    constexpr std::size_t kErrorsShown = 10;
    ok.body.pop_back();
    ok.body += ",\"quarantined\":" + std::to_string(scratch.bad.size()) + ",\"errors\":[";
    for (std::size_t i = 0; i < scratch.bad.size() && i < kErrorsShown; ++i) {
        const auto& b = scratch.bad[i];
        if (i > 0) ok.body += ',';
        ok.body += "{\"index\":" + std::to_string(b.index) + ",\"field\":\"" +
                   json_escape(b.fault.field.substr(0, 256)) + "\",\"expected\":\"" +
                   json_escape(b.fault.expected) + "\",\"reason\":\"" +
                   json_escape(b.fault.reason) + "\"}";
    }
    ok.body += "]}";
    return std::nullopt;
}

std::optional<Response> IngestHandler::split_shards(const batch::Route& route,
                                                    std::string_view data,
                                                    IngestScratch& scratch) const {
    const auto& sharding = *route.shards->sharding;
    const auto& slots = *sharding.slots;  // a route has shards only once they are known
    const auto n = route.shards->buffers.size();
    scratch.shard_rows.resize(n);
    for (auto& r : scratch.shard_rows)
        r.clear();
    if (sharding.by.kind == core::ShardBy::Kind::random) {
        // rand(): the whole request goes to one shard, picked by weight, so
        // that it stays one batch (ClickHouse picks per row; either way the
        // shards get rows in proportion to their weights).
        thread_local std::mt19937_64 random{std::random_device{}()};
        scratch.shard_rows[slots.shard_of(random())] = scratch.rows;
    } else {
        for (std::size_t i = 0; i < scratch.rows.size(); ++i) {
            const auto& r = scratch.rows[i];
            const auto key =
                ingest::shard_key(data.substr(r.offset, r.length), sharding.by, scratch.key);
            if (!key.ok()) {
                return error_response(ApiError::bad_request,
                                      "event " + std::to_string(i) + ": field " +
                                          sharding.by.field + " " + ingest::describe(key.fault) +
                                          "; table " + route.buffer->table().name() +
                                          " is sharded by " + core::to_string(sharding.by) +
                                          " and nothing was stored",
                                      "\"index\":" + std::to_string(i));
            }
            scratch.shard_rows[slots.shard_of(key.value)].push_back(r);
        }
    }
    scratch.parts.clear();
    for (std::size_t s = 0; s < n; ++s) {
        if (!scratch.shard_rows[s].empty())
            scratch.parts.push_back({route.shards->buffers[s].get(), scratch.shard_rows[s]});
    }
    return std::nullopt;
}

std::optional<Response> IngestHandler::append(const batch::Route& route, std::string_view data,
                                              IngestScratch& scratch,
                                              const flush::CommitWaiterPtr& waiter,
                                              std::uint64_t& last_lsn) {
    if (route.shards) {
        return admission_error(manager_.append_shards(scratch.parts, data, Clock::now(), waiter),
                               route.buffer->table());
    }
    const auto result = manager_.append(*route.buffer, data, scratch.rows, Clock::now(), waiter);
    last_lsn = result.last_lsn;
    return admission_error(result.admission, route.buffer->table());
}

std::optional<Response> IngestHandler::post_events(std::string_view table, const IngestInput& input,
                                                   IngestScratch& scratch) {
    return idempotently(input, [&](const IngestInput& in) -> std::optional<Response> {
        std::string_view body;
        Response error;
        if (!decode_content(in, scratch, body, error)) return error;
        const auto format = is_ndjson_type(in.content_type) ? ingest::BodyFormat::ndjson
                                                            : ingest::BodyFormat::detect;
        const IngestTarget target{manager_.registry().route(table), table, format, Dialect::events};
        return ingest(target, body, scratch, in);
    });
}

std::optional<Response> IngestHandler::read_statement(std::string_view url_query,
                                                      std::string_view body, IngestScratch& scratch,
                                                      ingest::InsertQuery& insert,
                                                      std::string_view& data) const {
    // The statement comes in the URL, or, as clickhouse-bulk takes it, at the
    // start of the body with the rows after it.
    std::string parse_error;
    if (const auto query = query_param(url_query, "query")) {
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
    if (insert.table.database.empty()) {
        if (auto db = query_param(url_query, "database"); db && !db->empty()) {
            if (!core::is_identifier(*db)) {
                return error_response(ApiError::bad_request,
                                      "database " + client_quote(*db) + " is not an identifier");
            }
            insert.table.database = *db;
        }
    }
    return std::nullopt;
}

std::optional<Response> IngestHandler::post_insert(std::string_view url_query,
                                                   const IngestInput& in, IngestScratch& scratch) {
    if (auto d = query_param(url_query, "decompress"); d && *d == "1") {
        return error_response(ApiError::unsupported_encoding,
                              "ClickHouse's native compression (decompress=1) is not supported; "
                              "use Content-Encoding: gzip or zstd");
    }
    std::string_view body;
    Response error;
    if (!decode_content(in, scratch, body, error)) return error;
    ingest::InsertQuery insert;
    std::string_view data;
    if (auto refused = read_statement(url_query, body, scratch, insert, data)) return refused;
    const auto query_id = query_id_for(url_query);
    if (query_id.empty()) {
        return error_response(ApiError::bad_request, "query_id must be at most " +
                                                         std::to_string(kMaxQueryId) +
                                                         " printable ASCII characters");
    }
    scratch.headers.assign("X-ClickHouse-Query-Id: ").append(query_id).append("\r\n");
    // ClickHouse answers an INSERT without rows with 200; some clients send them.
    if (data.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        auto ok = success(Dialect::clickhouse, config::AckLevel::buffered, 0);
        ok.extra_headers = scratch.headers;
        clickhouse_summary(0, 0, ok.extra_headers);
        return ok;
    }
    const std::string label = insert.table.database.empty()
                                  ? insert.table.table
                                  : insert.table.database + "." + insert.table.table;
    // An Idempotency-Key is unique per table, not per path: every table
    // shares the path "/".
    IngestInput scoped = in;
    const std::string scope = std::string(in.scope) + "?" + label;
    scoped.scope = scope;
    scoped.extra_headers = scratch.headers;
    return idempotently(scoped, [&](const IngestInput& s) {
        const IngestTarget target{manager_.registry().route(insert.table, insert.columns), label,
                                  ingest::BodyFormat::ndjson, Dialect::clickhouse};
        return ingest(target, data, scratch, s);
    });
}

}  // namespace chgate::http
