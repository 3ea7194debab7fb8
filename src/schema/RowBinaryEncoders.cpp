#include "schema/RowBinaryEncoders.hpp"

#include "schema/SchemaCache.hpp"
#include "util/Log.hpp"

namespace chgate::schema {

namespace {
constexpr std::chrono::seconds kAskEvery{10};
constexpr std::size_t kMaxEntries = 100'000;
}  // namespace

RowBinaryEncoders::RowBinaryEncoders(const SchemaCache& schemas, TimeZone time_zone,
                                     bool best_effort)
    : schemas_(schemas), time_zone_(std::move(time_zone)), best_effort_(best_effort) {}

bool RowBinaryEncoders::server_utc() {
    const int known = utc_.load(std::memory_order_acquire);
    if (known >= 0) return known == 1;
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto next = next_ask_.load(std::memory_order_relaxed);
    // One flusher asks; the others read DateTime text as not UTC meanwhile.
    if (now < next ||
        !next_ask_.compare_exchange_strong(
            next, now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(kAskEvery)
                            .count())) {
        return false;
    }
    // One ask at a time (its client is not shared between threads): a flusher
    // that finds another asking goes on without the answer.
    if (!ask_mutex_.try_lock()) return false;
    std::optional<std::string> zone;
    try {
        zone = time_zone_ ? time_zone_() : std::nullopt;
    } catch (...) {
        ask_mutex_.unlock();
        throw;
    }
    ask_mutex_.unlock();
    if (!zone) return false;
    const bool utc = *zone == "UTC" || *zone == "Etc/UTC" || *zone == "UCT" || *zone == "Etc/UCT";
    utc_.store(utc ? 1 : 0, std::memory_order_release);
    LOG_INFO << "insert_format: rowbinary: the server's time zone is " << *zone
             << (utc ? "; DateTime text is encoded"
                     : "; DateTime text is sent as JSONEachRow, for the server to read");
    return utc;
}

bool RowBinaryEncoders::encode(const std::string& database, const std::string& table,
                               const std::string& insert_query, bool skip_unknown_fields,
                               std::string_view rows, std::string& query, std::string& body) {
    auto fall_back = [this] {
        fell_back_.fetch_add(1, std::memory_order_relaxed);
        return false;
    };
    // An INSERT that names its columns (the ClickHouse dialect's) keeps them.
    if (insert_query.find(" (") != std::string::npos) return fall_back();
    const auto columns = schemas_.columns(database, table);
    if (!columns) return fall_back();
    const bool utc = server_utc();
    std::shared_ptr<const ingest::RowBinaryEncoder> encoder;
    {
        LockGuard lock(mutex_);
        if (entries_.size() >= kMaxEntries) entries_.clear();  // tables come and go
        auto& e = entries_[{database, table}];
        if (e.columns != columns || e.skip_unknown != skip_unknown_fields || e.utc != utc) {
            e.columns = columns;
            e.skip_unknown = skip_unknown_fields;
            e.utc = utc;
            std::vector<ingest::EncodedColumn> encoded;
            for (const auto& c : *columns) {
                if (c.default_kind == "MATERIALIZED" || c.default_kind == "ALIAS") continue;
                encoded.push_back(
                    {c.name, ingest::parse_column_type(c.type), c.default_kind == "DEFAULT"});
            }
            std::string why;
            e.encoder = ingest::RowBinaryEncoder::make(
                std::move(encoded), {utc, skip_unknown_fields, best_effort_}, why);
            if (e.encoder) {
                e.query = "INSERT INTO `" + database + "`.`" + table + "` " +
                          e.encoder->column_list() + " FORMAT RowBinary";
            } else if (why != e.why) {
                LOG_WARN << "insert_format: rowbinary: " << database << "." << table
                         << " is sent as JSONEachRow: " << why;
            }
            e.why = std::move(why);
        }
        encoder = e.encoder;
        if (encoder) query = e.query;
    }
    if (!encoder) return fall_back();
    std::string why;
    if (!encoder->encode(rows, body, why)) {
        LOG_INFO << "insert_format: rowbinary: a batch of " << database << "." << table
                 << " is sent as JSONEachRow: " << why;
        return fall_back();
    }
    encoded_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

}  // namespace chgate::schema
