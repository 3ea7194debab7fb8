#include "app/Status.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <ostream>
#include <thread>

#include "app/CommandClient.hpp"
#include "util/Text.hpp"
#include "util/TimeFormat.hpp"

namespace chgate::app {

namespace {

using json = nlohmann::json;

// A value at `key` of `j`, or `fallback` when it is missing or of another kind.
template <class T>
T get(const json& j, const char* key, T fallback = T{}) {
    if (!j.is_object()) return fallback;
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    try {
        return it->get<T>();
    } catch (const json::exception&) {
        return fallback;
    }
}

const json& at(const json& j, const char* key) {
    static const json kNull;
    if (!j.is_object()) return kNull;
    const auto it = j.find(key);
    return it == j.end() ? kNull : *it;
}

double per_second(std::uint64_t now, std::uint64_t before, double seconds) {
    if (seconds <= 0 || now < before) return 0;
    return static_cast<double>(now - before) / seconds;
}

std::string fixed(double v, int digits) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

std::string age_text(std::int64_t ms) {
    if (ms <= 0) return "-";
    if (ms < 1000) return std::to_string(ms) + "ms";
    if (ms < 120'000) return fixed(static_cast<double>(ms) / 1000, 1) + "s";
    return fixed(static_cast<double>(ms) / 60'000, 1) + "m";
}

std::string size_text(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    std::size_t i = 0;
    while (v >= 1024 && i + 1 < std::size(units)) {
        v /= 1024;
        ++i;
    }
    return (i == 0 ? std::to_string(bytes) : fixed(v, 1)) + " " + units[i];
}

// What the screen shows of a string that came from the server (table names,
// ClickHouse's errors quoting clients' rows): control characters and bytes
// that are not UTF-8 escaped, so that nothing read can drive the terminal.
std::string shown(std::string_view s) {
    return escape_for_log(s, 4096);
}

// One row of a text table: each cell padded to its column (left-aligned
// first column, right-aligned numbers), cut to `width`.
std::string row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths,
                std::size_t width) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        std::string cell = shown(cells[i]);
        if (cell.size() > widths[i]) cell = cell.substr(0, widths[i] - 1) + "~";
        const std::string pad(widths[i] - cell.size(), ' ');
        if (i > 0) line += ' ';
        line += i == 0 ? cell + pad : pad + cell;
    }
    while (!line.empty() && line.back() == ' ')
        line.pop_back();
    if (line.size() > width) line.resize(width);
    return line + "\n";
}

}  // namespace

StatusView make_status_view(const json& now, const json& before, double seconds,
                            const json& readyz) {
    StatusView v;
    v.at = format_utc_seconds(std::chrono::system_clock::now());
    v.ready = get<bool>(readyz, "ready");
    v.not_ready_reason = get<std::string>(readyz, "reason");
    v.events_per_second = get<double>(at(now, "calculated"), "events_per_second");
    v.queued_rows = get<std::uint64_t>(at(now, "batching"), "queued_items");
    v.memory_mib = get<double>(at(now, "batching"), "memory_usage_mb");
    v.connections = get<std::uint64_t>(at(now, "server"), "connections");
    const auto& storage = at(now, "storage");
    v.has_storage = storage.is_object();
    v.spool_bytes = get<std::uint64_t>(storage, "spool_bytes");
    v.dead_letter_rows = get<std::uint64_t>(at(storage, "dead_letters"), "rows");
    const auto& tables = at(now, "tables");
    const auto& earlier = at(before, "tables");
    if (tables.is_object()) {
        for (const auto& [name, t] : tables.items()) {
            const auto& b = at(earlier, name.c_str());
            StatusView::Table row;
            row.name = name;
            row.strategy = get<std::string>(t, "strategy");
            row.ack = get<std::string>(t, "ack");
            if (b.is_object()) {
                row.events_per_second = per_second(get<std::uint64_t>(t, "rows_accepted"),
                                                   get<std::uint64_t>(b, "rows_accepted"), seconds);
                row.batches_per_second =
                    per_second(get<std::uint64_t>(t, "batches_inserted"),
                               get<std::uint64_t>(b, "batches_inserted"), seconds);
            }
            row.buffered_rows = get<std::uint64_t>(t, "buffered_rows");
            row.pending_rows = get<std::uint64_t>(t, "pending_rows");
            row.oldest_pending_age_ms = get<std::int64_t>(t, "oldest_pending_age_ms");
            row.held = get<bool>(t, "held");
            row.held_reason = get<std::string>(t, "held_reason");
            row.spool_rows = get<std::uint64_t>(at(t, "spool"), "rows");
            row.dead_lettered = get<std::uint64_t>(t, "rows_dead_lettered");
            row.quarantined = get<std::uint64_t>(t, "rows_quarantined_ingest") +
                              get<std::uint64_t>(t, "rows_quarantined_insert");
            row.failed_batches = get<std::uint64_t>(t, "failed_batches");
            v.tables.push_back(std::move(row));
        }
    }
    if (const auto& progress = at(readyz, "progress"); progress.is_array()) {
        for (const auto& p : progress) {
            ProgressView pv;
            pv.operation = get<std::string>(p, "operation");
            pv.table = get<std::string>(p, "table");
            pv.rows_done = get<std::uint64_t>(p, "rows_done");
            pv.rows_left = get<std::uint64_t>(p, "rows_left");
            pv.left_estimated = get<bool>(p, "rows_left_estimated");
            pv.rows_per_second = get<double>(p, "rows_per_second");
            if (const auto& eta = at(p, "eta_seconds"); eta.is_number())
                pv.eta_seconds = eta.get<double>();
            pv.elapsed_seconds = get<double>(p, "elapsed_seconds");
            v.progress.push_back(std::move(pv));
        }
    }
    const auto& clickhouse = at(now, "clickhouse");
    if (const auto& replicas = at(clickhouse, "replicas"); replicas.is_array()) {
        for (const auto& r : replicas) {
            v.servers.push_back({get<std::string>(r, "url"), get<std::string>(r, "circuit_breaker"),
                                 get<std::string>(r, "version"), get<bool>(r, "reachable"),
                                 get<std::uint64_t>(r, "consecutive_failures")});
        }
    }
    if (const auto& shards = at(clickhouse, "shards"); shards.is_array()) {
        for (const auto& s : shards) {
            v.shards.push_back({get<std::uint64_t>(s, "shard"), get<bool>(s, "reachable"),
                                get<std::vector<std::string>>(s, "replicas")});
        }
    }
    return v;
}

std::string render_status_text(const StatusView& v, std::size_t width) {
    std::string out = "chgate " + shown(v.url) + "  " + v.at + "  " +
                      (v.ready ? "ready" : "NOT READY: " + shown(v.not_ready_reason));
    if (out.size() > width) out.resize(width);
    out += "\n";
    out += "events/s " + fixed(v.events_per_second, 1) + "   rows in memory " +
           std::to_string(v.queued_rows) + "   memory " + fixed(v.memory_mib, 1) +
           " MiB   connections " + std::to_string(v.connections);
    if (v.has_storage) {
        out += "   spool " + size_text(v.spool_bytes) + "   dead letters " +
               std::to_string(v.dead_letter_rows);
    }
    out += "\n";
    for (const auto& p : v.progress) {
        auto line = shown(operation_words(p.operation) + (p.table.empty() ? "" : " of " + p.table) +
                          ": " + describe(p));
        if (line.size() > width) line.resize(width);
        out += line + "\n";
    }
    out += "\n";
    const std::vector<std::size_t> tw{22, 9, 9, 9, 9, 9, 9, 7, 5, 8, 7, 7, 7};
    out += row({"TABLE", "STRATEGY", "ACK", "EVENTS/S", "BATCH/S", "BUFFERED", "PENDING", "OLDEST",
                "HELD", "SPOOL", "DEAD", "QUAR", "FAILED"},
               tw, width);
    for (const auto& t : v.tables) {
        out += row(
            {t.name, t.strategy, t.ack, fixed(t.events_per_second, 1),
             fixed(t.batches_per_second, 2), std::to_string(t.buffered_rows),
             std::to_string(t.pending_rows), age_text(t.oldest_pending_age_ms),
             t.held ? "HELD" : "-", std::to_string(t.spool_rows), std::to_string(t.dead_lettered),
             std::to_string(t.quarantined), std::to_string(t.failed_batches)},
            tw, width);
    }
    for (const auto& t : v.tables) {
        if (t.held) {
            auto line = "  " + shown(t.name) + " is held: " + shown(t.held_reason);
            if (line.size() > width) line.resize(width);
            out += line + "\n";
        }
    }
    out += "\n";
    const std::vector<std::size_t> sw{40, 9, 9, 8, 12};
    out += row({"CLICKHOUSE", "REACHABLE", "BREAKER", "FAILURES", "VERSION"}, sw, width);
    for (const auto& s : v.servers) {
        out += row({s.url, s.reachable ? "yes" : "NO", s.breaker,
                    std::to_string(s.consecutive_failures), s.version.empty() ? "-" : s.version},
                   sw, width);
    }
    if (!v.shards.empty()) {
        out += "\n";
        for (const auto& s : v.shards) {
            std::string replicas;
            for (const auto& r : s.replicas)
                replicas += (replicas.empty() ? "" : ", ") + shown(r);
            auto line = "shard " + std::to_string(s.shard) + ": " +
                        (s.reachable ? "reachable" : "UNREACHABLE") + " (" + replicas + ")";
            if (line.size() > width) line.resize(width);
            out += line + "\n";
        }
    }
    return out;
}

nlohmann::ordered_json render_status_json(const StatusView& v) {
    nlohmann::ordered_json tables = nlohmann::ordered_json::array();
    for (const auto& t : v.tables) {
        tables.push_back({{"table", t.name},
                          {"strategy", t.strategy},
                          {"ack", t.ack},
                          {"events_per_second", std::round(t.events_per_second * 10) / 10},
                          {"batches_per_second", std::round(t.batches_per_second * 100) / 100},
                          {"buffered_rows", t.buffered_rows},
                          {"pending_rows", t.pending_rows},
                          {"oldest_pending_age_ms", t.oldest_pending_age_ms},
                          {"held", t.held},
                          {"held_reason", t.held ? nlohmann::ordered_json(t.held_reason) : nullptr},
                          {"spool_rows", t.spool_rows},
                          {"dead_lettered_rows", t.dead_lettered},
                          {"quarantined_rows", t.quarantined},
                          {"failed_batches", t.failed_batches}});
    }
    nlohmann::ordered_json servers = nlohmann::ordered_json::array();
    for (const auto& s : v.servers) {
        servers.push_back({{"url", s.url},
                           {"reachable", s.reachable},
                           {"circuit_breaker", s.breaker},
                           {"consecutive_failures", s.consecutive_failures},
                           {"version", s.version.empty() ? nlohmann::ordered_json(nullptr)
                                                         : nlohmann::ordered_json(s.version)}});
    }
    nlohmann::ordered_json out = {
        {"url", v.url},
        {"at", v.at},
        {"ready", v.ready},
        {"reason",
         v.ready ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v.not_ready_reason)},
        {"events_per_second", std::round(v.events_per_second * 10) / 10},
        {"queued_rows", v.queued_rows},
        {"memory_mib", std::round(v.memory_mib * 10) / 10},
        {"connections", v.connections},
        {"tables", tables},
        {"clickhouse", {{"servers", servers}}},
    };
    nlohmann::ordered_json progress = nlohmann::ordered_json::array();
    for (const auto& p : v.progress) {
        progress.push_back({{"operation", p.operation},
                            {"table", p.table.empty() ? nlohmann::ordered_json(nullptr)
                                                      : nlohmann::ordered_json(p.table)},
                            {"rows_done", p.rows_done},
                            {"rows_left", p.rows_left},
                            {"rows_left_estimated", p.left_estimated},
                            {"rows_per_second", p.rows_per_second},
                            {"eta_seconds", p.eta_seconds ? nlohmann::ordered_json(*p.eta_seconds)
                                                          : nlohmann::ordered_json(nullptr)},
                            {"words", operation_words(p.operation) + ": " + describe(p)}});
    }
    out["progress"] = progress;
    if (v.has_storage) {
        out["spool_bytes"] = v.spool_bytes;
        out["dead_letter_rows"] = v.dead_letter_rows;
    }
    if (!v.shards.empty()) {
        auto shards = nlohmann::ordered_json::array();
        for (const auto& s : v.shards)
            shards.push_back(
                {{"shard", s.shard}, {"reachable", s.reachable}, {"replicas", s.replicas}});
        out["clickhouse"]["shards"] = shards;
    }
    return out;
}

namespace {

// GET url; the parsed JSON body, or an error.
bool get_json(CommandClient& client, const std::string& url, const std::string& token, json& out,
              std::string& error) {
    CommandClient::Request request;
    request.url = url;
    request.token = token;
    request.accept_json = true;
    // A /metrics of a few thousand tables is a few MiB: the default 64 MiB
    // cap refuses only the absurd.
    CommandClient::Answer answer;
    if (!client.perform(request, answer, error)) return false;
    const long status = answer.status;
    // /readyz answers 503 with its JSON when not ready: that is an answer.
    if (status != 200 && status != 503) {
        error =
            url + ": answered " + std::to_string(status) +
            (status == 401 || status == 403 ? " (set CHGATE_METRICS_TOKEN to metrics.token)" : "");
        return false;
    }
    out = json::parse(answer.body, nullptr, false);
    if (out.is_discarded()) {
        error = url + ": not JSON";
        return false;
    }
    return true;
}

struct Reading {
    json metrics, readyz;
    std::chrono::steady_clock::time_point at;
};

// The terminal's width, or 120 when stdout is not one.
std::size_t terminal_width() {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col;
    return 120;
}

bool read_once(CommandClient& client, const StatusOptions& o, Reading& r, std::string& error) {
    r.at = std::chrono::steady_clock::now();
    return get_json(client, o.url + "/metrics", o.token, r.metrics, error) &&
           get_json(client, o.url + "/readyz", o.token, r.readyz, error);
}

}  // namespace

int run_status(const StatusOptions& o, std::ostream& out, std::ostream& err) {
    CommandClient client;
    if (!client.ok()) {
        err << "chgate: cannot start libcurl\n";
        return 1;
    }
    Reading before, now;
    std::string error;
    if (!read_once(client, o, before, error)) {
        err << "chgate: " << error << "\n";
        return 1;
    }
    for (;;) {
        std::this_thread::sleep_for(o.interval);
        if (!read_once(client, o, now, error)) {
            if (o.once) {
                err << "chgate: " << error << "\n";
                return 1;
            }
            // top keeps trying: a restart of the gateway is worth watching.
            out << "\x1b[H\x1b[2J"
                << "chgate " << o.url << ": " << error << "\n"
                << std::flush;
            continue;
        }
        const double seconds = std::chrono::duration<double>(now.at - before.at).count();
        auto view = make_status_view(now.metrics, before.metrics, seconds, now.readyz);
        view.url = o.url;
        if (o.json) {
            out << render_status_json(view).dump(2) << "\n";
        } else if (o.once) {
            out << render_status_text(view, terminal_width());
        } else {
            // Home and clear, then the screen: one write per refresh.
            out << "\x1b[H\x1b[2J" + render_status_text(view, terminal_width()) +
                       "\n(Ctrl-C quits)\n"
                << std::flush;
        }
        if (o.once) return 0;
        before = std::move(now);
    }
}

}  // namespace chgate::app
