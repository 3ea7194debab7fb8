#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/Units.hpp"
#include "core/EnumNames.hpp"
#include "core/ShardBy.hpp"
#include "util/LogLevel.hpp"

namespace chgate::config {

using namespace std::chrono_literals;

inline constexpr std::uint64_t kKiB = 1ULL << 10;
inline constexpr std::uint64_t kMiB = 1ULL << 20;
inline constexpr Duration kDefaultMaxAge = std::chrono::seconds(30);

/// How a table's buffer decides to become a batch. The batch configuration guide's spellings
/// (fixed_size, time_window, …) are aliases; low_latency and mega_batch are
/// presets of hybrid (see strategy_preset()).
enum class StrategyKind { immediate, time, size, hybrid, memory, adaptive };

/// Each enum's names, for parsing and printing alike. Where a value has
/// several names, the first is the one printed.
inline constexpr core::EnumName<StrategyKind> kStrategyNames[] = {
    {StrategyKind::immediate, "immediate"},
    {StrategyKind::time, "time"},
    {StrategyKind::size, "size"},
    {StrategyKind::hybrid, "hybrid"},
    {StrategyKind::memory, "memory"},
    {StrategyKind::adaptive, "adaptive"},
    // The batch configuration guide's spellings.
    {StrategyKind::size, "fixed_size"},
    {StrategyKind::time, "time_window"},
    {StrategyKind::memory, "memory_based"},
    {StrategyKind::adaptive, "adaptive_size"},
    // Presets of hybrid (see apply_strategy_preset()).
    {StrategyKind::hybrid, "low_latency"},
    {StrategyKind::hybrid, "mega_batch"},
};

enum class Compression { none, gzip, zstd };

inline constexpr core::EnumName<Compression> kCompressionNames[] = {
    {Compression::gzip, "gzip"}, {Compression::zstd, "zstd"}, {Compression::none, "none"}};

enum class UnknownTables { reject, defaults };

inline constexpr core::EnumName<UnknownTables> kUnknownTablesNames[] = {
    {UnknownTables::reject, "reject"}, {UnknownTables::defaults, "defaults"}};

/// What a success answer promises (per table; a request may ask for more).
enum class AckLevel {
    buffered,   ///< 202 once the events are in memory
    durable,    ///< 202 once they are in the table's write-ahead log, synced per storage.fsync
    committed,  ///< 200 once ClickHouse has committed the batch holding them
};

inline constexpr core::EnumName<AckLevel> kAckNames[] = {{AckLevel::buffered, "buffered"},
                                                         {AckLevel::durable, "durable"},
                                                         {AckLevel::committed, "committed"}};

/// When the write-ahead log syncs (store::Wal takes it as it is).
enum class FsyncMode {
    always,    ///< fdatasync before a durable ack (group commit)
    interval,  ///< write before the ack, fdatasync every fsync_interval
    never,     ///< write before the ack; the kernel syncs when it likes
};

inline constexpr core::EnumName<FsyncMode> kFsyncNames[] = {
    {FsyncMode::always, "always"}, {FsyncMode::interval, "interval"}, {FsyncMode::never, "never"}};

/// The batch configuration guide's failure strategies: what happens to rows ClickHouse refuses.
enum class FailureStrategy {
    retry_with_backoff,  ///< the default: bad rows are isolated and dead-lettered; the rest is
                         ///< retried
    send_to_dlq,         ///< as above, and a batch out of retries goes to the dead letters too
    log_and_continue,    ///< bad rows are isolated, logged, counted and dropped
    fail_batch,          ///< a batch with a bad row goes to the dead letters whole
};

inline constexpr core::EnumName<FailureStrategy> kFailureStrategyNames[] = {
    {FailureStrategy::retry_with_backoff, "RetryWithBackoff"},
    {FailureStrategy::send_to_dlq, "SendToDLQ"},
    {FailureStrategy::log_and_continue, "LogAndContinue"},
    {FailureStrategy::fail_batch, "FailBatch"},
};

/// What to do about a ClickHouse error code (overridable per code).
enum class ErrorAction { retry, quarantine, reject, hold };

inline constexpr core::EnumName<ErrorAction> kErrorActionNames[] = {
    {ErrorAction::retry, "retry"},
    {ErrorAction::quarantine, "quarantine"},
    {ErrorAction::reject, "reject"},
    {ErrorAction::hold, "hold"},
};

/// Whether a table's rows are checked against its columns at the door.
enum class SchemaCheck {
    off,
    check,
    coerce,  ///< check, and rewrite what a column can take without loss (ingest::coerce_value)
};

inline constexpr core::EnumName<SchemaCheck> kSchemaCheckNames[] = {
    {SchemaCheck::off, "off"}, {SchemaCheck::check, "check"}, {SchemaCheck::coerce, "coerce"}};

/// What a field that is no column of the table gets.
enum class UnknownFields {
    reject,  ///< the event is refused (as ClickHouse refuses it)
    ignore,  ///< skipped: INSERTs set input_format_skip_unknown_fields=1
};

inline constexpr core::EnumName<UnknownFields> kUnknownFieldsNames[] = {
    {UnknownFields::reject, "reject"}, {UnknownFields::ignore, "ignore"}};

/// What an event that does not fit its table gets.
enum class OnInvalid {
    reject,      ///< the whole request is refused at the door (400); ClickHouse's refusals go to
                 ///< the dead letters
    quarantine,  ///< it goes to the table's quarantine table, the rest of the request goes in
};

inline constexpr core::EnumName<OnInvalid> kOnInvalidNames[] = {
    {OnInvalid::reject, "reject"}, {OnInvalid::quarantine, "quarantine"}};

/// The format of a table's INSERTs.
enum class InsertFormat {
    jsoneachrow,  ///< the events as sent (after coerce)
    rowbinary,    ///< encoded by the table's columns, where chgate can (ingest::RowBinaryEncoder)
};

inline constexpr core::EnumName<InsertFormat> kInsertFormatNames[] = {
    {InsertFormat::jsoneachrow, "jsoneachrow"}, {InsertFormat::rowbinary, "rowbinary"}};

/// What chgate does to a table's columns when events bring new fields.
enum class SchemaEvolution {
    off,          ///< nothing: a new field is an unknown field
    add_columns,  ///< ALTER TABLE … ADD COLUMN, Nullable, of the type the first value suggests
};

inline constexpr core::EnumName<SchemaEvolution> kSchemaEvolutionNames[] = {
    {SchemaEvolution::off, "off"}, {SchemaEvolution::add_columns, "add_columns"}};

/// The names a new column may have, unless configured: lower case, at most 64 characters.
inline constexpr std::string_view kDefaultNewColumnPattern = "[a-z_][a-z0-9_]{0,63}";

/// A table chgate creates when it finds it missing (`create:`).
struct TableCreate {
    std::vector<std::pair<std::string, std::string>> columns;  ///< name, type; in order
    std::string engine = "MergeTree()";
    std::string order_by;  ///< "" for a MergeTree: ORDER BY tuple()
    std::string partition_by;

    bool operator==(const TableCreate&) const = default;
};

/// The quarantine table's name when none is configured: {table} is the table's.
inline constexpr std::string_view kDefaultQuarantineTable = "{table}_quarantine";

/// One table's batching settings: built-in values, overlaid by `batching.defaults`,
/// then by the strategy's preset, then by the table's own keys.
struct TableConfig {
    std::string strategy_name = "hybrid";  ///< as written in YAML, shown in /metrics
    StrategyKind strategy = StrategyKind::hybrid;
    std::uint64_t max_batch_size = 1000;  ///< rows
    Duration max_batch_time = 2s;
    std::uint64_t max_memory = 10 * kMiB;  ///< the table's quota: buffered + awaiting insert
    /// Hard cap on any row's wait, for every strategy. 0 means "auto": the
    /// larger of kDefaultMaxAge and max_batch_time, resolved per table.
    Duration max_age{0};
    int priority = 3;  ///< 1 is the highest
    Compression compression = Compression::gzip;
    int retry_attempts = 3;
    AckLevel ack = AckLevel::durable;
    FailureStrategy failure_strategy = FailureStrategy::retry_with_backoff;
    std::uint64_t min_batch_size = 10;  ///< adaptive only
    Duration target_latency = 100ms;    ///< adaptive only: the INSERT round trip to aim for
    /// The table is a Distributed table: INSERTs set insert_distributed_sync=1,
    /// so that they end once every shard has the rows; where the server lacks
    /// that setting, committed acks are refused.
    bool distributed = false;
    /// With clickhouse.cluster: each row goes to the shard this picks, as
    /// ClickHouse's Distributed engine would, into `local_table` there.
    std::optional<core::ShardBy> shard_by;
    std::string local_table;  ///< the shards' table (same database); with shard_by
    /// check: each event's fields are checked against the table's columns
    /// (read from system.columns) before it is buffered; coerce: and values
    /// a column can take rewritten without loss are rewritten.
    SchemaCheck schema = SchemaCheck::check;
    UnknownFields unknown_fields = UnknownFields::reject;
    OnInvalid on_invalid = OnInvalid::reject;
    /// With on_invalid: quarantine, the table (in the same database) that
    /// takes bad events; {table} is this table's name.
    std::string quarantine_table = std::string(kDefaultQuarantineTable);
    /// Created when missing (at start, or when the table first appears), ON
    /// CLUSTER clickhouse.cluster.name when one is named; for a table with
    /// shard_by, this declares its local_table.
    std::optional<TableCreate> create;
    /// add_columns: a field that is no column becomes one (ALTER TABLE … ADD
    /// COLUMN), within the three limits below; the events that brought it
    /// wait in the buffer until every server has the column.
    SchemaEvolution schema_evolution = SchemaEvolution::off;
    /// No column is added to a table that has this many.
    std::uint32_t max_columns = 1000;
    /// An ECMAScript regular expression the whole name of a new column must
    /// match (it must also be an identifier).
    std::string new_column_pattern = std::string(kDefaultNewColumnPattern);
    /// At most this many ALTERs a minute for the table; a request past it is
    /// answered 429 with Retry-After.
    int max_alters_per_minute = 10;
    /// rowbinary: batches are encoded as RowBinary by the table's columns in
    /// the flusher; a batch (or a table) chgate cannot encode goes as
    /// JSONEachRow.
    InsertFormat insert_format = InsertFormat::jsoneachrow;

    bool operator==(const TableConfig&) const = default;
};

/// The quarantine table of `table` under `t`: quarantine_table with {table}
/// replaced.
inline std::string quarantine_table_of(const TableConfig& t, std::string_view table) {
    constexpr std::string_view kName = "{table}";
    const std::string_view pattern = t.quarantine_table;
    std::string out;
    for (std::size_t i = 0; i < pattern.size();) {
        if (pattern.substr(i, kName.size()) == kName) {
            out.append(table);
            i += kName.size();
        } else {
            out += pattern[i++];
        }
    }
    return out;
}

/// Fills in max_age: "auto" (0) becomes the larger of kDefaultMaxAge and max_batch_time.
inline TableConfig resolve_max_age(TableConfig t) {
    if (t.max_age == Duration{0}) t.max_age = std::max(kDefaultMaxAge, t.max_batch_time);
    return t;
}

/// HTTPS for clients: the certificate chain and key chgate presents, and,
/// with client_ca_file, client certificates required and checked (mTLS).
struct ServerTlsConfig {
    std::string cert_file;  ///< empty: plain HTTP
    std::string key_file;
    std::string client_ca_file;
    bool enabled() const { return !cert_file.empty(); }
    bool operator==(const ServerTlsConfig&) const = default;
};

/// HTTPS to ClickHouse (an https:// URL): the CA to check it against, and a
/// client certificate if ClickHouse asks for one.
struct ClientTlsConfig {
    std::string ca_file;  ///< empty: the system's CAs
    std::string cert_file;
    std::string key_file;
    bool verify = true;  ///< false: accept any certificate (tests only)
};

struct ServerConfig {
    /// Loopback by default: reachable from other machines only when said so.
    std::string listen = "127.0.0.1:8080";
    int threads = 0;  ///< 0 means one per core
    std::uint64_t max_body_size = 16 * kMiB;
    Duration idle_timeout = 60s;  ///< keep-alive connections with no request are closed
    /// A request's headers must arrive within this of its first byte.
    Duration header_timeout = 10s;
    /// A request's body must arrive, and an answer be taken, within this.
    Duration body_timeout = 60s;
    std::uint64_t max_header_size = 16 * kKiB;  ///< past it: 431
    /// Connections at once, from everyone and from one address. Past either,
    /// a new connection is answered 503 (Retry-After) and closed.
    std::uint64_t max_connections = 10000;
    std::uint64_t max_connections_per_ip = 1000;
    /// Request bodies being read or handled, summed over every connection.
    /// Past it, requests get 503 before their bodies are read.
    std::uint64_t max_inflight_bytes = 256 * kMiB;
    /// CIDRs clients may connect from; empty: any. Others are closed at once.
    std::vector<std::string> allow_from;
    ServerTlsConfig tls;
    Duration shutdown_timeout = 30s;      ///< how long a stop waits for in-flight inserts
    Duration commit_timeout = 30s;        ///< how long an ack: committed request waits (then 504)
    Duration idempotency_window = 10min;  ///< how long an Idempotency-Key's answer is kept
    std::uint64_t idempotency_max_keys = 100000;
};

/// One shard of clickhouse.cluster: its replicas and its weight, as in
/// ClickHouse's remote_servers.
struct ShardConfig {
    std::uint32_t weight = 1;
    std::vector<std::string> replicas;
    bool operator==(const ShardConfig&) const = default;
};

struct ClickHouseConfig {
    /// Where tables without shard_by go: clickhouse.urls, or the one
    /// clickhouse.url, or (neither given) every replica of the cluster's
    /// shards. Never empty.
    std::vector<std::string> urls = {"http://127.0.0.1:8123"};
    /// Whether `urls` are the cluster's replicas (neither url nor urls given):
    /// then they follow the cluster's shards when those change.
    bool urls_from_cluster = false;
    /// clickhouse.cluster.shards, in remote_servers' order; empty: no cluster
    /// (or, with discover, a cluster read from system.clusters).
    std::vector<ShardConfig> shards;
    /// clickhouse.cluster.name: the cluster in remote_servers (for discover).
    std::string cluster_name;
    /// clickhouse.cluster.discover: read the cluster from system.clusters at
    /// start, at each reload and every minute. With `shards`, check them (a
    /// difference is logged and shown in /metrics); without, route by it.
    bool discover = false;
    /// clickhouse.cluster.http_port: the HTTP port of a server read from
    /// system.clusters (which names its TCP port); 0: the first url's port.
    std::uint16_t http_port = 0;
    /// clickhouse.cluster.http_ports: by TCP port, for servers that share a
    /// host (and so need their own ports).
    std::map<std::uint16_t, std::uint16_t> http_ports;
    // A replica's circuit breaker: open after this many consecutive failures,
    // half-open after the cool-down.
    int breaker_failures = 5;
    Duration breaker_cooldown = 10s;
    ClientTlsConfig tls;
    std::string database = "default";
    std::string user = "default";
    std::string password;
    Duration timeout = 30s;
    int max_concurrent_inserts = 4;
    Duration probe_interval = 2s;
    /// How often each table's columns are read again from system.columns.
    Duration schema_refresh = 1min;
    /// clickhouse.create_tables: SQL files (paths or globs) whose statements
    /// are run at start, in order, before rows are sent.
    std::vector<std::string> create_tables;
    std::map<std::string, std::string> settings;  ///< sent as URL parameters with every INSERT
    /// Overrides of the default class of ClickHouse error codes.
    std::map<int, ErrorAction> error_classes;
    // Retry backoff: exponential with full jitter.
    Duration hold_probe_interval = 10s;  ///< a held buffer tries one batch this often
    /// A buffer held longer than this sends what it holds to the dead letters.
    Duration hold_max = 1h;
    /// Bisection's budget: the INSERTs one batch may make to isolate bad rows.
    std::uint64_t max_inserts_per_batch = 32;
    Duration retry_initial = 500ms;
    Duration retry_max = 30s;
    double retry_multiplier = 2.0;
};

struct BatchingConfig {
    bool enabled = true;
    std::uint64_t max_memory = 512 * kMiB;
    UnknownTables unknown_tables = UnknownTables::reject;
    std::uint64_t max_tables =
        1000;  ///< cap on live tables created on the fly by unknown_tables: defaults
    /// Cap on the column lists (buffers besides the plain one) of one table.
    std::uint64_t max_buffers_per_table = 16;
    /// A buffer of a column list, or of a table served by default, that has
    /// been empty and unused this long is closed and its log removed.
    Duration idle_buffer_ttl = 10min;
    TableConfig defaults;
    /// Keyed by the name clients use: "events" or "db.events".
    std::map<std::string, TableConfig> tables;
};

struct StorageConfig {
    /// Write-ahead logs (and, later, the spool and dead letters). Relative
    /// paths are taken from the working directory.
    std::string dir = "chgate-data";
    FsyncMode fsync = FsyncMode::always;
    Duration fsync_interval = 1s;  ///< for fsync: interval
    std::uint64_t segment_size = 16 * kMiB;
    /// Zeros written ahead of the records in each table's open log segment, so
    /// that a sync writes data only (not the file's size and block map too).
    /// Counted in max_disk. 0: off.
    std::uint64_t preallocate = kMiB;
    /// Bound on write-ahead logs (their preallocated space too), spool and dead
    /// letters. Past it, durable tables answer 503, nothing more is spooled,
    /// and refused rows wait in memory. 0: no bound.
    std::uint64_t max_disk = 10ULL * 1024 * kMiB;
    /// Dead-letter files whose rows are all older than this are deleted. 0: never.
    Duration dead_letter_retention = std::chrono::days(7);
    /// How fast spooled batches go back to ClickHouse once it answers again.
    std::uint64_t spool_replay_rate = 16 * kMiB;  ///< bytes per second
};

using LogLevel = log::LogLevel;

inline constexpr core::EnumName<LogLevel> kLogLevelNames[] = {{LogLevel::debug, "debug"},
                                                              {LogLevel::info, "info"},
                                                              {LogLevel::warn, "warn"},
                                                              {LogLevel::error, "error"}};

using LogFormat = log::LogFormat;

inline constexpr core::EnumName<LogFormat> kLogFormatNames[] = {
    {LogFormat::text, "text"}, {LogFormat::json, "json"}, {LogFormat::logfmt, "logfmt"}};

/// When /readyz answers 503 besides an unreachable ClickHouse.
struct ReadinessConfig {
    bool held_tables = true;            ///< while any table is held
    Duration max_lag = 5min;            ///< when a table's oldest unsent event is older; 0: never
    std::uint64_t max_spool_bytes = 0;  ///< when the spool holds more; 0: never
};

/// How chgate keeps a token: its SHA-256, never the token itself.
using TokenDigest = std::array<std::uint8_t, 32>;

/// One client's credentials: who it is, what it may write, how fast.
struct TokenConfig {
    std::string name;  ///< shown in /metrics and the log, never the token
    TokenDigest digest{};
    std::string source;                       ///< "token", "token_file: PATH" or "token_sha256"
    std::vector<std::string> tables;          ///< globs over table names; empty: every table
    std::uint64_t max_events_per_second = 0;  ///< 0: no limit
    std::uint64_t max_bytes_per_second = 0;   ///< 0: no limit
    bool operator==(const TokenConfig&) const = default;
};

struct AuthConfig {
    std::vector<TokenConfig> tokens;
    /// With no tokens, ingest is open only on a loopback address, unless this says so.
    bool allow_anonymous = false;
};

struct AdminConfig {
    /// When set, /admin/ needs "Authorization: Bearer <token>". Unset: the
    /// admin API is open on a loopback address and closed on any other.
    std::optional<TokenDigest> token;
    std::vector<std::string> allow_from;  ///< CIDRs /admin/ may be used from; empty: any
};

struct MetricsConfig {
    /// When set, /metrics and /readyz need "Authorization: Bearer <token>".
    std::optional<TokenDigest> token;
};

struct LogConfig {
    LogLevel level = LogLevel::info;
    LogFormat format = LogFormat::text;
    /// Each call site writes at most rate_limit_lines per rate_limit_interval;
    /// the rest are counted and reported. 0 lines: no limit.
    std::uint32_t rate_limit_lines = 20;
    Duration rate_limit_interval = 10s;
};

struct Config {
    ServerConfig server;
    ClickHouseConfig clickhouse;
    BatchingConfig batching;
    StorageConfig storage;
    AuthConfig auth;
    AdminConfig admin;
    MetricsConfig metrics;
    ReadinessConfig readiness;
    LogConfig log;
};

using ConfigPtr = std::shared_ptr<const Config>;

// clang-format off
/// Each enum's name table, found by the enum's type.
constexpr auto& names_for(StrategyKind) { return kStrategyNames; }
constexpr auto& names_for(Compression) { return kCompressionNames; }
constexpr auto& names_for(UnknownTables) { return kUnknownTablesNames; }
constexpr auto& names_for(LogLevel) { return kLogLevelNames; }
constexpr auto& names_for(AckLevel) { return kAckNames; }
constexpr auto& names_for(FsyncMode) { return kFsyncNames; }
constexpr auto& names_for(FailureStrategy) { return kFailureStrategyNames; }
constexpr auto& names_for(ErrorAction) { return kErrorActionNames; }
// clang-format on

/// The printed name of an enum value (a literal, so also a C string).
template <class E>
requires requires(E e) {
    names_for(e);
}
constexpr const char* to_string(E value) {
    return core::name_of(names_for(value), value).data();
}

}  // namespace chgate::config
