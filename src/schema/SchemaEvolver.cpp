#include "schema/SchemaEvolver.hpp"

#include <algorithm>

#include "schema/TableDdl.hpp"
#include "util/Log.hpp"

namespace chgate::schema {

namespace {
constexpr std::chrono::minutes kWindow{1};
// How often a change not yet on every server is looked for again.
constexpr std::chrono::milliseconds kVerifyEvery{500};
// How often landed columns are looked for in the schema cache.
constexpr std::chrono::seconds kHousekeeping{1};

std::string describe(const clickhouse::HttpResponse& r) {
    if (!r.transport_ok) return r.transport_error;
    return "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
}

// Code 15, DUPLICATE_COLUMN: the column is there already (another chgate, a
// retry, a replica that got it through ZooKeeper).
bool column_exists_error(const clickhouse::HttpResponse& r) {
    return r.transport_ok && r.body.starts_with("Code: 15,");
}
}  // namespace

const char* to_string(SchemaEvolver::Verdict v) {
    switch (v) {
        case SchemaEvolver::Verdict::pending:
            return "pending";
        case SchemaEvolver::Verdict::rate_limited:
            return "rate_limited";
        case SchemaEvolver::Verdict::too_many_columns:
            return "too_many_columns";
        case SchemaEvolver::Verdict::failed:
            return "failed";
        case SchemaEvolver::Verdict::busy:
            return "busy";
    }
    return "?";
}

SchemaEvolver::SchemaEvolver(Query query, Servers servers, Known known, Report report,
                             std::string cluster, std::chrono::milliseconds verify_for)
    : query_(std::move(query)),
      servers_(std::move(servers)),
      known_(std::move(known)),
      report_(std::move(report)),
      cluster_(std::move(cluster)),
      verify_for_(verify_for) {}

void SchemaEvolver::start() {
    task_.start(
        "chgate-evolve",
        [this](bool last) {
            if (last) return Clock::now();
            run_once(Clock::now());
            return next_due();
        },
        Clock::now());
}

SchemaEvolver::Answer SchemaEvolver::propose(const Key& key, const NewColumn& column,
                                             std::size_t columns_now, const Limits& limits,
                                             Clock::time_point now) {
    {
        LockGuard lock(mutex_);
        // A table gets an entry only once it has a change: refusals leave none.
        Table none;
        const auto found = tables_.find(key);
        auto& t = found != tables_.end() ? found->second : none;
        for (const auto& c : t.changes) {
            if (c.column.name == column.name) return {};
        }
        if (const auto f = t.failed.find(column.name); f != t.failed.end()) {
            if (now < f->second.first) {
                return {Verdict::failed,
                        std::chrono::ceil<std::chrono::seconds>(f->second.first - now),
                        f->second.second};
            }
            t.failed.erase(f);
        }
        if (columns_now >= limits.max_columns) {
            return {Verdict::too_many_columns,
                    {},
                    "the table has " + std::to_string(columns_now) +
                        " columns, and max_columns is " + std::to_string(limits.max_columns)};
        }
        while (!t.alters.empty() && now - t.alters.front() >= kWindow)
            t.alters.pop_front();
        if (t.alters.size() >= static_cast<std::size_t>(limits.per_minute)) {
            const auto wait =
                std::max(std::chrono::ceil<std::chrono::seconds>(t.alters.front() + kWindow - now),
                         std::chrono::seconds(1));
            return {Verdict::rate_limited, wait,
                    "the table adds at most " + std::to_string(limits.per_minute) +
                        " columns a minute (max_alters_per_minute)"};
        }
        if (pending_ >= kMaxPending) {
            return {Verdict::busy, std::chrono::seconds(5),
                    std::to_string(kMaxPending) + " new columns are being added already"};
        }
        auto& entry = found != tables_.end() ? found->second : tables_[key];
        entry.alters.push_back(now);
        entry.changes.push_back(
            {column, limits.also_table, State::queued, now, now + verify_for_, {}});
        ++pending_;
        waiting_.store(pending_, std::memory_order_release);
        rebuild_extra(entry);
    }
    LOG_INFO << "schema: adding column " << column.name << " " << column.type << " to " << key.first
             << "." << key.second << " (a new field; schema_evolution: add_columns)";
    task_.wake();
    return {};
}

void SchemaEvolver::rebuild_extra(Table& t) {
    if (t.changes.empty()) {
        t.extra.reset();
    } else {
        auto list = std::make_shared<std::vector<NewColumn>>();
        list->reserve(t.changes.size());
        for (const auto& c : t.changes)
            list->push_back(c.column);
        t.extra = std::move(list);
    }
    version_.fetch_add(1, std::memory_order_acq_rel);
}

std::shared_ptr<const std::vector<NewColumn>> SchemaEvolver::extra(const Key& key) const {
    LockGuard lock(mutex_);
    const auto it = tables_.find(key);
    return it == tables_.end() ? nullptr : it->second.extra;
}

bool SchemaEvolver::waits(const Key& key) const {
    if (waiting_.load(std::memory_order_acquire) == 0) return false;
    LockGuard lock(mutex_);
    const auto it = tables_.find(key);
    if (it == tables_.end()) return false;
    return std::any_of(it->second.changes.begin(), it->second.changes.end(),
                       [](const Change& c) { return c.state != State::landed; });
}

SchemaEvolver::Clock::time_point SchemaEvolver::next_due() const {
    LockGuard lock(mutex_);
    auto next = Clock::time_point::max();
    for (const auto& [key, t] : tables_) {
        for (const auto& c : t.changes) {
            next = std::min(next, c.state == State::landed ? Clock::now() + kHousekeeping : c.next);
        }
        if (t.changes.empty() && (!t.alters.empty() || !t.failed.empty()))
            next = std::min(next, Clock::now() + kWindow);
    }
    return next;
}

std::string SchemaEvolver::alter(const Key& key, const Change& c, bool& permanent) {
    std::string error;
    permanent = false;
    // One ALTER: ON CLUSTER (url ""), or on the server at `url`. True if it
    // went in or the column was there; else `r` says why not.
    auto run = [&](const std::string& url, const std::string& table, clickhouse::HttpResponse& r) {
        r = query_(url, add_column_sql(key.first, table, c.column.name, c.column.type,
                                       url.empty() ? cluster_ : std::string()));
        return (r.transport_ok && r.status == 200) || column_exists_error(r);
    };
    // The first failure is the change's.
    auto note = [&](const std::string& url, const clickhouse::HttpResponse& r) {
        if (!error.empty()) return;
        error = (url.empty() ? "" : url + ": ") + describe(r);
        // The server said no (not a timeout, code 159, of ON CLUSTER waiting
        // for its hosts): no point waiting for the column.
        permanent = r.transport_ok && !r.body.starts_with("Code: 159,");
    };
    bool on_each = cluster_.empty();
    if (!on_each) {
        clickhouse::HttpResponse r;
        if (!run("", key.second, r)) {
            // Code 371: a table that is not Replicated, on a cluster whose
            // shards are (internal_replication): ON CLUSTER refuses it, and
            // each server takes it.
            if (r.transport_ok && r.body.starts_with("Code: 371,")) {
                on_each = true;
            } else {
                note("", r);
            }
        }
    }
    if (on_each) {
        for (const auto& url : servers_()) {
            clickhouse::HttpResponse r;
            if (!run(url, key.second, r)) note(url, r);
        }
    }
    if (c.also_table.empty()) return error;
    // The Distributed table of a sharded table: the clients' view of it, on
    // each server (ON CLUSTER refuses it on a replicated cluster, code 371).
    // chgate inserts into the local tables, so a failure here is only said.
    for (const auto& url : servers_()) {
        clickhouse::HttpResponse r;
        if (run(url, c.also_table, r) || (r.transport_ok && r.body.starts_with("Code: 60,"))) {
            continue;
        }
        LOG_WARN << "schema: adding column " << c.column.name << " to " << key.first << "."
                 << c.also_table << " on " << url << " failed: " << describe(r);
    }
    return error;
}

std::string SchemaEvolver::verify(const Key& key, const NewColumn& column) {
    const auto sql = "SELECT count() FROM system.columns WHERE database = '" + key.first +
                     "' AND table = '" + key.second + "' AND name = '" + column.name + "'";
    const auto servers = servers_();
    if (servers.empty()) return "no ClickHouse server to ask";
    for (const auto& url : servers) {
        const auto r = query_(url, sql);
        if (!r.transport_ok || r.status != 200) return url + ": " + describe(r);
        if (!r.body.starts_with("1")) return url + " does not have it";
    }
    return {};
}

void SchemaEvolver::run_once(Clock::time_point now) {
    struct Work {
        Key key;
        Change change;
    };
    std::vector<Work> due;
    {
        LockGuard lock(mutex_);
        for (auto it = tables_.begin(); it != tables_.end();) {
            auto& t = it->second;
            // Columns the schema cache has read are its to know now.
            const auto before = t.changes.size();
            std::erase_if(t.changes, [&](const Change& c) {
                return c.state == State::landed && known_ && known_(it->first, c.column.name);
            });
            if (t.changes.size() != before) rebuild_extra(t);
            while (!t.alters.empty() && now - t.alters.front() >= kWindow)
                t.alters.pop_front();
            std::erase_if(t.failed, [&](const auto& f) { return now >= f.second.first; });
            if (t.changes.empty() && t.alters.empty() && t.failed.empty()) {
                it = tables_.erase(it);
                continue;
            }
            for (const auto& c : t.changes) {
                if (c.state != State::landed && c.next <= now) due.push_back({it->first, c});
            }
            ++it;
        }
    }
    // Outside the lock: each step waits for ClickHouse.
    for (auto& w : due) {
        auto& c = w.change;
        bool permanent = false;
        if (c.state == State::queued) {
            c.alter_error = alter(w.key, c, permanent);
            // A server that could not be asked (or timed out) is asked again
            // next round; one that answered is only looked at.
            c.state = c.alter_error.empty() || permanent ? State::verifying : State::queued;
        }
        auto missing = verify(w.key, c.column);
        const bool landed = missing.empty();
        const bool failed = !landed && (permanent || now >= c.deadline);
        std::string error;
        if (failed) {
            error = c.alter_error.empty()
                        ? "the column was not on every server after " +
                              std::to_string(verify_for_.count()) + " ms: " + missing
                        : c.alter_error;
        }
        {
            LockGuard lock(mutex_);
            const auto t = tables_.find(w.key);
            if (t == tables_.end()) continue;
            auto& changes = t->second.changes;
            const auto it = std::find_if(changes.begin(), changes.end(), [&](const Change& x) {
                return x.column.name == c.column.name;
            });
            if (it == changes.end()) continue;
            if (landed || failed) {
                --pending_;
                waiting_.store(pending_, std::memory_order_release);
            }
            if (landed) {
                it->state = State::landed;
            } else if (failed) {
                t->second.failed[c.column.name] = {now + kFailedFor,
                                                   "adding it as a column failed: " + error};
                changes.erase(it);
                rebuild_extra(t->second);
            } else {
                it->state = c.state;
                it->alter_error = c.alter_error;
                it->next = now + kVerifyEvery;
            }
        }
        if (landed) {
            LOG_INFO << "schema: column " << c.column.name << " " << c.column.type << " is on "
                     << "every server for " << w.key.first << "." << w.key.second;
        } else if (failed) {
            LOG_WARN << "schema: adding column " << c.column.name << " to " << w.key.first << "."
                     << w.key.second << " failed: " << error;
        }
        if ((landed || failed) && report_) report_(w.key, c.column, error);
    }
}

}  // namespace chgate::schema
