#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batch/BatchManager.hpp"
#include "batch/Quarantine.hpp"
#include "http/Access.hpp"
#include "http/Dialect.hpp"
#include "http/IdempotencyCache.hpp"
#include "http/Response.hpp"
#include "ingest/BodyDecoder.hpp"
#include "ingest/InsertQuery.hpp"
#include "ingest/RowCheck.hpp"

namespace chgate::schema {
class SchemaEvolver;
}

namespace chgate::http {

class RowChecks;

/// The parts of an ingest request the handler reads.
struct IngestInput {
    std::string_view content_encoding;
    std::string_view content_type;
    std::string_view body;
    std::string_view url_query;        ///< for ?ack=
    const Defer* defer = nullptr;      ///< how to answer later (ack durable or committed)
    std::string_view idempotency_key;  ///< the Idempotency-Key header
    std::string_view scope;            ///< the path: a key is unique per path and caller
    /// Who sent it (checked by the Router); null: no credentials checked (tests).
    const Access::Caller* caller = nullptr;
    bool bytes_taken = false;  ///< the body's bytes already counted in the caller's rate
    /// Headers the success answer carries ("Name: value\r\n" each): the
    /// ClickHouse dialect's X-ClickHouse-Query-Id.
    std::string_view extra_headers;
};

/// Buffers a connection reuses from request to request, so that decoding
/// allocates nothing once they have grown.
struct IngestScratch {
    std::string decoded;
    std::string joined;
    std::vector<ingest::RowSlice> rows;
    // A table with shard_by: each shard's rows, and a decoded key.
    std::vector<std::vector<ingest::RowSlice>> shard_rows;
    std::vector<batch::ShardPart> parts;
    std::string key;
    std::string headers;  ///< IngestInput::extra_headers of a POST /
    // schema: coerce: the body with rewritten rows, and one rewritten row.
    std::string coerced;
    std::string row;
    /// on_invalid: quarantine: the events that did not fit, in the body as sent.
    struct Bad {
        std::size_t index = 0;
        ingest::RowSlice slice;
        ingest::RowFault fault;
    };
    std::vector<Bad> bad;

    /// Gives back memory a rare large request left behind, so that idle
    /// connections do not each keep a max_body_size buffer.
    void trim();
};

/// Where an ingest request's rows go, and how they are read and answered.
struct IngestTarget {
    batch::Route route;
    std::string_view label;  ///< the table as the client named it, for error texts
    ingest::BodyFormat format;
    Dialect dialect;
};

/// Turns an ingest request into rows in a table buffer, or an error, and
/// answers when the table's ack level is met. No sockets: the session hands it
/// bytes and sends back what it returns (or what it sends through `defer`).
class IngestHandler {
  public:
    /// Whether ClickHouse lacks insert_distributed_sync (a replica's probe
    /// found none): then a Distributed table cannot promise committed.
    using DistributedSyncMissing = std::function<bool()>;

    IngestHandler(batch::BatchManager& manager, const Access& access, std::uint64_t max_body_size,
                  std::chrono::milliseconds commit_timeout,
                  std::chrono::milliseconds idempotency_window = std::chrono::minutes(10),
                  std::size_t idempotency_max_keys = 100000,
                  DistributedSyncMissing distributed_sync_missing = {});

    /// Checks a request to POST /v1/events/{table} on its headers, before its
    /// body is read: a refusal is the answer the whole request would get
    /// (chgate starting, a bad or unknown table, one out of room, an
    /// unsupported Content-Encoding). The body is not looked at.
    std::optional<Response> admit_events(std::string_view table, const IngestInput& headers);
    /// The same for POST /?query=…; a statement in the body is not checked.
    std::optional<Response> admit_insert(std::string_view url_query, const IngestInput& headers);

    /// POST /v1/events/{table}: 202 {"accepted": N}; 200 with ack committed.
    /// nullopt: the answer comes through in.defer.
    std::optional<Response> post_events(std::string_view table, const IngestInput& in,
                                        IngestScratch& scratch);

    /// POST /?query=INSERT INTO … FORMAT JSONEachRow, or with the statement as
    /// the body's first line: 200 with an empty body, as ClickHouse answers.
    std::optional<Response> post_insert(std::string_view url_query, const IngestInput& in,
                                        IngestScratch& scratch);

    /// From now on every ingest request gets 503 (POST /admin/drain): what
    /// is buffered goes to ClickHouse, and nothing new comes in.
    void set_draining() { draining_.store(true); }
    /// The tables' row checkers (schema: check); null: no checks. For wiring.
    void set_row_checks(RowChecks* checks) { row_checks_ = checks; }
    /// Where tables with on_invalid: quarantine send events that do not fit;
    /// null: such events refuse their request as under reject. For wiring.
    void set_quarantine(batch::Quarantine* quarantine) { quarantine_ = quarantine; }
    /// What adds columns for new fields (schema_evolution); null: none is
    /// added, and a new field is an unknown one. For wiring.
    void set_evolver(schema::SchemaEvolver* evolver) { evolver_ = evolver; }
    bool draining() const { return draining_.load(std::memory_order_relaxed); }

  private:
    /// When a route is checked: on the headers, before the body is read; or
    /// with the body, just before its rows are appended.
    enum class Stage { headers, append };
    /// The answer for a request to `route` that cannot go on (a route error,
    /// chgate starting, the caller's rights, or at Stage::headers a table or
    /// gateway out of memory), or nullopt.
    std::optional<Response> refuse_route(const batch::Route& route, std::string_view table_label,
                                         Stage stage, const Access::Caller* caller) const;
    /// 415 for a Content-Encoding chgate does not decode.
    std::optional<Response> refuse_encoding(std::string_view content_encoding) const;
    /// Decompresses into scratch.decoded when encoded; on error fills `error`.
    bool decode_content(const IngestInput& in, IngestScratch& scratch, std::string_view& body,
                        Response& error) const;
    /// The answer for a route that failed (bad name, unknown table, …), or nullopt.
    std::optional<Response> route_error(const batch::Route& route,
                                        std::string_view table_label) const;
    /// The answer for an append the table or gateway refused, or nullopt.
    std::optional<Response> admission_error(batch::Admission admission,
                                            const batch::Table& table) const;
    /// Splits `data` into scratch.rows and takes them from the caller's rate.
    std::optional<Response> decode_rows(std::string_view data, ingest::BodyFormat format,
                                        IngestScratch& scratch, const IngestInput& in) const;
    /// The ack level the request gets: its table's, raised by ?ack=, and
    /// committed where durable has no log; or the refusal.
    std::optional<Response> choose_ack(const batch::Route& route, std::string_view url_query,
                                       config::AckLevel& ack) const;
    /// Under schema: check, each event against the table's columns: 400
    /// for the first that does not fit (nothing is stored), or under
    /// on_invalid: quarantine, those that do not fit leave scratch.rows for
    /// scratch.bad. Under coerce, rewritten events leave `data` pointing at
    /// scratch.coerced.
    std::optional<Response> check_rows(const batch::Route& route, std::string_view& data,
                                       IngestScratch& scratch) const;
    /// schema_evolution: add_columns, for an event whose `fault` is a field
    /// that is no column. True: the column is being added (check the event
    /// again); false: it is not (`fault`'s reason says why), or the request
    /// is refused (`refusal`: 429 past the table's ALTER rate).
    bool evolve(const batch::Table& table, const config::TableConfig& cfg,
                const ingest::RowChecker& checker, std::string_view row, ingest::RowFault& fault,
                IngestScratch& scratch, std::optional<Response>& refusal) const;
    /// Sends scratch.bad to the table's quarantine table (from `sent`, the
    /// body as sent), and adds them to the answer `ok`.
    std::optional<Response> quarantine_rows(const batch::Route& route, std::string_view sent,
                                            const IngestScratch& scratch, const IngestInput& in,
                                            Response& ok);
    /// Splits scratch.rows by shard into scratch.parts, as the table's
    /// shard_by picks; 400 for a row whose key chgate cannot compute.
    std::optional<Response> split_shards(const batch::Route& route, std::string_view data,
                                         IngestScratch& scratch) const;
    /// Appends the request's rows to the buffers (each shard's, for a table
    /// with shard_by); the refusal if the table or gateway has no room.
    std::optional<Response> append(const batch::Route& route, std::string_view data,
                                   IngestScratch& scratch, const flush::CommitWaiterPtr& waiter,
                                   std::uint64_t& last_lsn);
    /// Reads the INSERT statement from ?query= or the body's start, and the
    /// rows that follow it into `data`.
    std::optional<Response> read_statement(std::string_view url_query, std::string_view body,
                                           IngestScratch& scratch, ingest::InsertQuery& insert,
                                           std::string_view& data) const;
    /// Decodes rows, appends them, and answers per the ack level.
    std::optional<Response> ingest(const IngestTarget& target, std::string_view data,
                                   IngestScratch& scratch, const IngestInput& in);

    /// Runs `process(const IngestInput&)` once per Idempotency-Key: a repeat
    /// gets the first answer. A template, so that the request path does not
    /// allocate a std::function for it.
    template <typename Process>
    std::optional<Response> idempotently(const IngestInput& in, Process&& process);

    batch::BatchManager& manager_;
    const Access& access_;
    const std::uint64_t max_body_size_;
    const std::chrono::milliseconds commit_timeout_;
    IdempotencyCache idempotency_;
    const DistributedSyncMissing distributed_sync_missing_;
    std::atomic<bool> draining_{false};
    RowChecks* row_checks_ = nullptr;
    batch::Quarantine* quarantine_ = nullptr;
    schema::SchemaEvolver* evolver_ = nullptr;
};

}  // namespace chgate::http
