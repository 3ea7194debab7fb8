#include "batch/Quarantine.hpp"

#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "batch/BatchManager.hpp"
#include "clickhouse/ErrorClassifier.hpp"
#include "store/DeadLetters.hpp"
#include "store/Wal.hpp"
#include "util/Log.hpp"
#include "util/Text.hpp"

namespace chgate::batch {
namespace {

const char* describe(RouteError e) {
    switch (e) {
        case RouteError::name_too_long:
            return "its name is too long";
        case RouteError::too_many_buffers:
        case RouteError::closing:
            return "its buffer is busy";
        case RouteError::storage_failed:
            return "its write-ahead log cannot be opened";
        default:
            return "it cannot be routed to";
    }
}

const char* describe(Admission a) {
    switch (a) {
        case Admission::table_full:
            return "its max_memory is in use";
        case Admission::gateway_full:
            return "batching.max_memory is in use";
        case Admission::too_large:
            return "the rows are larger than its max_memory";
        case Admission::disk_full:
            return "storage.max_disk is in use";
        default:
            return "it refused them";
    }
}

}  // namespace

std::string quarantine_table_ddl(std::string_view database, std::string_view table) {
    std::string sql = "CREATE TABLE IF NOT EXISTS `";
    sql.append(database).append("`.`").append(table).append("` (");
    sql +=
        "time DateTime, table String, batch_id String, token String, stage String, "
        "code Int32, field String, error String, row String) "
        "ENGINE = MergeTree() PARTITION BY toYYYYMM(time) ORDER BY (table, time)";
    return sql;
}

void append_quarantine_json(std::string& out, std::chrono::system_clock::time_point time,
                            std::string_view table, std::string_view batch_id,
                            std::string_view token, QuarantineStage stage,
                            const QuarantinedRow& row) {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
    out += "{\"time\":";
    out += std::to_string(seconds < 0 ? 0 : seconds);
    out += ",\"table\":\"";
    out += json_escape(table);
    out += "\",\"batch_id\":\"";
    out += json_escape(batch_id);
    out += "\",\"token\":\"";
    out += json_escape(token);
    out += "\",\"stage\":\"";
    out += stage == QuarantineStage::ingest ? "ingest" : "insert";
    out += "\",\"code\":";
    out += std::to_string(row.code);
    out += ",\"field\":\"";
    out += json_escape(row.field);
    out += "\",\"error\":\"";
    out += json_escape(row.error);
    out += "\",\"row\":\"";
    out += json_escape(row.row);
    out += "\"}";
}

bool Quarantine::add(Table& source, QuarantineStage stage, std::string_view batch_id,
                     std::string_view token, std::span<const QuarantinedRow> rows,
                     std::string& error, bool wait_durable) {
    if (rows.empty()) return true;
    const auto route = manager_.registry().route_quarantine(source);
    if (!route.buffer) {
        error = std::string("its quarantine table cannot take rows: ") + describe(route.error);
        return false;
    }
    std::string body;
    std::vector<core::RowSlice> slices;
    slices.reserve(rows.size());
    const auto now = std::chrono::system_clock::now();
    for (const auto& r : rows) {
        const auto at = body.size();
        append_quarantine_json(body, now, source.name(), batch_id, token, stage, r);
        slices.push_back(
            {static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(body.size() - at), false});
        body += '\n';
    }
    const auto result = manager_.append(*route.buffer, body, slices, Clock::now());
    if (result.admission != Admission::ok) {
        error = "its quarantine table " + route.buffer->table().name() +
                " cannot take rows: " + describe(result.admission);
        return false;
    }
    source.on_quarantined(stage == QuarantineStage::insert, rows.size());
    const auto wal = route.buffer->wal();
    if (wait_durable && result.last_lsn != 0 && wal) {
        // The log writer syncs within storage.fsync_interval; a log that
        // fails keeps the rows in memory, to be delivered all the same.
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        while (wal->durable_lsn() < result.last_lsn && !wal->failed() && Clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

std::uint64_t Quarantine::take_dead_letters(Table& source, store::DeadLetters& dead_letters,
                                            std::string& error) {
    constexpr std::size_t kChunk = 1000;
    std::uint64_t moved = 0;
    for (const auto& taken : dead_letters.take(source.database(), source.table())) {
        // Each chunk's texts live until it is added.
        std::vector<std::string> batch_ids, fields, errors, rows;
        std::vector<int> codes;
        bool ok = true;
        auto flush = [&] {
            if (!ok || rows.empty()) return;
            std::vector<QuarantinedRow> chunk;
            for (std::size_t i = 0; i < rows.size(); ++i)
                chunk.push_back({rows[i], codes[i], fields[i], errors[i]});
            // One batch id per call is enough for the operator: the first.
            ok = add(source, QuarantineStage::insert, batch_ids.front(), "", chunk, error, true);
            if (ok) moved += rows.size();
            batch_ids.clear(), fields.clear(), errors.clear(), rows.clear(), codes.clear();
        };
        for (const auto& file : taken.files) {
            store::DeadLetters::read_entries(
                file, [&](std::string_view record, std::string_view row) {
                    if (!ok) return;
                    int code = 0;
                    std::string batch_id, message;
                    try {
                        const auto j = nlohmann::json::parse(record);
                        code = j.value("code", 0);
                        batch_id = j.contains("batch_id") ? j["batch_id"].dump() : "";
                        message = j.value("error", std::string());
                    } catch (const std::exception&) {
                        message = "(the dead-letter record could not be read)";
                    }
                    if (!batch_id.empty() && batch_id.front() == '"')
                        batch_id = batch_id.substr(1, batch_id.size() - 2);
                    batch_ids.push_back(std::move(batch_id));
                    fields.push_back(clickhouse::field_of_error(message));
                    errors.push_back(std::move(message));
                    rows.emplace_back(row);
                    codes.push_back(code);
                    if (rows.size() >= kChunk) flush();
                });
        }
        flush();
        if (!ok) {
            LOG_WARN << "table " << source.name() << ": dead letters not moved into the "
                     << "quarantine table yet (" << error << "); they are kept";
            dead_letters.give_back(taken);
            break;
        }
        dead_letters.release(taken);
    }
    if (moved > 0) {
        LOG_INFO << "table " << source.name() << ": moved " << moved
                 << " dead-letter rows into its quarantine table";
    }
    return moved;
}

}  // namespace chgate::batch
