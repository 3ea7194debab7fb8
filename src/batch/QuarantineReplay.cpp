#include "batch/QuarantineReplay.hpp"

#include <future>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "batch/BatchManager.hpp"
#include "batch/Quarantine.hpp"
#include "util/Log.hpp"
#include "util/Progress.hpp"

namespace chgate::batch {

using namespace std::chrono_literals;

namespace {

constexpr std::size_t kPassRows = 2000;         // distinct rows a pass takes
constexpr std::uint64_t kMaxRows = 1'000'000;   // rows a call takes
constexpr std::size_t kMaxAnswer = 256u << 20;  // bytes of one pass's SELECT
constexpr auto kMutationWait = std::chrono::minutes(2);
constexpr auto kProgressInterval = 5s;

// One distinct quarantined row and how many times it is there.
struct Taken {
    std::uint32_t time = 0;
    std::string batch_id;
    std::string token;
    std::string row;
    std::string hash;  // cityHash64(row), as ClickHouse printed it
    std::uint64_t count = 0;
};

std::uint64_t as_u64(const nlohmann::json& v) {
    // 18.16 quotes 64-bit integers in JSON (output_format_json_quote_64bit_integers).
    return v.is_string() ? std::stoull(v.get<std::string>()) : v.get<std::uint64_t>();
}

std::string hash_text(const nlohmann::json& v) {
    return v.is_string() ? v.get<std::string>() : std::to_string(v.get<std::uint64_t>());
}

std::string where_clause(const Table& table, const QuarantineFilter& filter, std::int64_t cutoff) {
    std::string w = "table = " + sql_string(table.name()) + " AND time <= toDateTime(" +
                    std::to_string(cutoff) + ")";
    if (filter.since) w += " AND time >= toDateTime(" + std::to_string(*filter.since) + ")";
    if (filter.code) w += " AND code = " + std::to_string(*filter.code);
    if (filter.field) w += " AND field = " + sql_string(*filter.field);
    return w;
}

bool wait_for_mutations(const QuarantineQuery& query, const std::string& database,
                        const std::string& table, const std::atomic<bool>& stop,
                        std::string& error) {
    const auto sql =
        "SELECT count() FROM system.mutations WHERE database = " + sql_string(database) +
        " AND table = " + sql_string(table) + " AND is_done = 0";
    const auto deadline = std::chrono::steady_clock::now() + kMutationWait;
    for (;;) {
        std::string answer;
        if (!query(sql, answer, error)) return false;
        if (std::strtoull(answer.c_str(), nullptr, 10) == 0) return true;
        if (stop.load() || std::chrono::steady_clock::now() > deadline) {
            error = "ClickHouse has not finished removing the replayed rows";
            return false;
        }
        std::this_thread::sleep_for(100ms);
    }
}

}  // namespace

std::string sql_string(std::string_view s) {
    std::string out = "'";
    for (const char c : s) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    out += '\'';
    return out;
}

QuarantineReplayResult replay_quarantine(BatchManager& manager, Quarantine& quarantine,
                                         Table& table, const QuarantineFilter& filter,
                                         const QuarantineQuery& query, const QuarantineCheck& check,
                                         const std::atomic<bool>& stop, ProgressBoard* progress) {
    QuarantineReplayResult result;
    const auto cfg = table.config();
    const auto& database = table.database();
    const auto qtable = config::quarantine_table_of(*cfg, table.table());
    const auto qualified = "`" + database + "`.`" + qtable + "`";
    // Rows quarantined from the next second on (by this replay too) are left
    // for the next one.
    const auto now = std::chrono::system_clock::now();
    const auto cutoff =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    std::this_thread::sleep_until(
        std::chrono::system_clock::time_point(std::chrono::seconds(cutoff + 1)));
    const auto where = where_clause(table, filter, cutoff);
    const auto route = manager.registry().route_for_recovery({database, table.table(), {}, 0});
    if (!route.buffer) {
        result.error = "table " + table.name() + " cannot take rows now";
        return result;
    }
    // How many rows this call takes, for its progress: counted first.
    ProgressScope shown(progress, "quarantine_replay", table.name());
    std::uint64_t total = 0;
    {
        std::string answer, ignored;
        if (query("SELECT count() FROM " + qualified + " WHERE " + where, answer, ignored)) {
            try {
                total = std::min<std::uint64_t>(std::stoull(answer), kMaxRows);
            } catch (const std::exception&) {
                total = 0;  // shown as nothing left: the replay itself says more
            }
        }
    }
    shown->set_left(total);
    while (result.rows < kMaxRows) {
        if (stop.load()) {
            result.error = "chgate is stopping";
            break;
        }
        std::string answer;
        const auto select =
            "SELECT toUnixTimestamp(time) AS t, batch_id, token, row, cityHash64(row) AS h, "
            "count() AS n FROM " +
            qualified + " WHERE " + where +
            " GROUP BY time, batch_id, token, row ORDER BY time, batch_id LIMIT " +
            std::to_string(kPassRows) + " FORMAT JSONEachRow";
        if (!query(select, answer, result.error)) break;
        if (answer.size() > kMaxAnswer) {
            result.error = "a pass's rows are over " + std::to_string(kMaxAnswer) + " bytes";
            break;
        }
        std::vector<Taken> taken;
        try {
            for (std::size_t at = 0; at < answer.size();) {
                auto nl = answer.find('\n', at);
                if (nl == std::string::npos) nl = answer.size();
                if (nl > at) {
                    const auto j = nlohmann::json::parse(answer.begin() + static_cast<long>(at),
                                                         answer.begin() + static_cast<long>(nl));
                    const auto hash = hash_text(j.at("h"));
                    if (hash.empty() || hash.find_first_not_of("0123456789") != std::string::npos)
                        throw std::runtime_error("cityHash64 is not a number");
                    taken.push_back({static_cast<std::uint32_t>(as_u64(j.at("t"))),
                                     j.at("batch_id").get<std::string>(),
                                     j.at("token").get<std::string>(),
                                     j.at("row").get<std::string>(), hash, as_u64(j.at("n"))});
                }
                at = nl + 1;
            }
        } catch (const std::exception& e) {
            result.error = std::string("cannot read the quarantined rows: ") + e.what();
            break;
        }
        if (taken.empty()) break;

        // Checked as at the door: what fits goes to the table, the rest back
        // to the quarantine.
        std::string body, rewritten;
        std::vector<core::RowSlice> slices;
        std::vector<std::string> reasons;
        std::vector<const Taken*> refused;
        std::uint64_t pass_rows = 0;
        for (const auto& t : taken) {
            pass_rows += t.count;
            rewritten.clear();
            auto reason = check ? check(t.row, rewritten) : std::nullopt;
            if (reason) {
                reasons.push_back(std::move(*reason));
                refused.push_back(&t);
                continue;
            }
            const std::string_view row = rewritten.empty() ? std::string_view(t.row) : rewritten;
            for (std::uint64_t k = 0; k < t.count; ++k) {
                slices.push_back({static_cast<std::uint32_t>(body.size()),
                                  static_cast<std::uint32_t>(row.size()), false});
                body.append(row).push_back('\n');
            }
        }
        for (std::size_t i = 0; i < refused.size(); ++i) {
            std::vector<QuarantinedRow> again(refused[i]->count,
                                              {refused[i]->row, 0, "", reasons[i]});
            if (!quarantine.add(table, QuarantineStage::ingest, refused[i]->batch_id,
                                refused[i]->token, again, result.error, true)) {
                break;
            }
            result.refused += refused[i]->count;
        }
        if (!result.error.empty()) break;

        if (!slices.empty()) {
            auto done = std::make_shared<std::promise<flush::CommitOutcome>>();
            auto future = done->get_future();
            auto waiter = std::make_shared<flush::CommitWaiter>(
                [done](const flush::CommitOutcome& o) { done->set_value(o); });
            const bool ok =
                manager.append_waiting(*route.buffer, body, slices, waiter, stop, result.error);
            waiter->arm();
            if (!ok) break;
            manager.seal(*route.buffer, flush::FlushReason::replay);
            while (future.wait_for(100ms) != std::future_status::ready) {
                if (stop.load()) {
                    result.error =
                        "chgate is stopping; the rows sent stay in the quarantine "
                        "table too, and a later replay sends them again";
                    return result;
                }
            }
            const auto outcome = future.get();
            if (!outcome.committed && !outcome.rejected) {
                result.error = "ClickHouse has not taken the rows: " + outcome.error;
                break;
            }
            result.committed = result.committed && outcome.committed;
            result.sent += slices.size();
        }
        result.rows += pass_rows;

        // Every row taken is in the table now, or quarantined anew: remove it.
        std::string keys;
        for (const auto& t : taken) {
            if (!keys.empty()) keys += ',';
            keys += "(" + std::to_string(t.time) + "," + sql_string(t.batch_id) + "," +
                    sql_string(t.token) + "," + t.hash + ")";
        }
        std::string ignored;
        if (!query("ALTER TABLE " + qualified + " DELETE WHERE " + where +
                       " AND (toUnixTimestamp(time), batch_id, token, cityHash64(row)) IN (" +
                       keys + ")",
                   ignored, result.error) ||
            !wait_for_mutations(query, database, qtable, stop, result.error)) {
            result.error =
                "the rows were sent, but removing them from the quarantine table "
                "failed (" +
                result.error + "); a later replay sends them again";
            break;
        }
        result.removed += pass_rows;
        shown->set_done(result.rows);
        shown->set_left(total - std::min(total, result.rows));
        if (shown->due(Progress::Clock::now(), kProgressInterval)) {
            LOG_INFO << log::table(table.name()) << "quarantine of " << table.name()
                     << ": replaying: " << describe(shown->view(Progress::Clock::now()));
        }
        if (taken.size() < kPassRows) break;
    }
    LOG_INFO << "quarantine of " << table.name() << ": replayed " << result.rows << " rows ("
             << result.sent << " sent, " << result.refused << " still refused), removed "
             << result.removed << (result.error.empty() ? "" : "; " + result.error);
    return result;
}

}  // namespace chgate::batch
