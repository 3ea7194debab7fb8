#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "clickhouse/HttpResponse.hpp"
#include "util/Mutex.hpp"
#include "util/PeriodicTask.hpp"

namespace chgate::schema {

/// A column chgate adds to a table (schema_evolution: add_columns).
struct NewColumn {
    std::string name;
    std::string type;  ///< "Nullable(Int64)"
    bool operator==(const NewColumn&) const = default;
};

/// Adds the columns new fields ask for, on a thread of its own: one ALTER
/// TABLE … ADD COLUMN per column (ON CLUSTER when a cluster is named, else on
/// every server), then system.columns on every server chgate inserts into
/// until each shows the column. Until then the column is "pending": the row
/// checks take it (so the events that bring the field are buffered), and the
/// table's batches wait (waits()). A change that does not land within
/// `verify_for` fails: its field is refused for a minute, and the batches go
/// on (ClickHouse refuses the rows that hold the field, into the quarantine
/// or the dead letters).
///
/// Bounded: a table gets at most its max_alters_per_minute ALTERs a minute
/// and no column past max_columns; at most kMaxPending changes are in
/// progress at once, over all tables.
class SchemaEvolver {
  public:
    using Clock = std::chrono::steady_clock;
    using Key = std::pair<std::string, std::string>;  ///< database, the table INSERTs go into
    /// Runs `sql` on the server at `url`, or on any that answers when `url`
    /// is empty; called on the evolver's thread only.
    using Query =
        std::function<clickhouse::HttpResponse(const std::string& url, const std::string& sql)>;
    /// The servers an INSERT may reach: each must show a column before rows
    /// with it are sent.
    using Servers = std::function<std::vector<std::string>()>;
    /// Whether the schema cache has read `column` in `key`'s table: then the
    /// evolver forgets it.
    using Known = std::function<bool(const Key& key, const std::string& column)>;
    /// A change ended: landed (`error` empty) or failed. On the evolver's thread.
    using Report =
        std::function<void(const Key& key, const NewColumn& column, const std::string& error)>;

    static constexpr std::size_t kMaxPending = 1000;
    /// A field whose column failed is refused this long before it is tried again.
    static constexpr std::chrono::seconds kFailedFor{60};

    SchemaEvolver(Query query, Servers servers, Known known, Report report, std::string cluster,
                  std::chrono::milliseconds verify_for = std::chrono::seconds(60));
    ~SchemaEvolver() { stop(); }

    void start();
    void stop() { task_.stop(); }

    /// What a table allows.
    struct Limits {
        std::size_t max_columns = 1000;
        int per_minute = 10;
        /// Another table that gets the column too, if it exists: a sharded
        /// table's Distributed table (the client's name). "" for none.
        std::string also_table;
    };
    enum class Verdict {
        pending,           ///< the column is being added (now, or already)
        rate_limited,      ///< past max_alters_per_minute: retry after `retry_after`
        too_many_columns,  ///< the table has max_columns
        failed,            ///< adding it failed lately (`reason`)
        busy,              ///< kMaxPending changes in progress
    };
    struct Answer {
        Verdict verdict = Verdict::pending;
        std::chrono::seconds retry_after{0};
        std::string reason;
    };
    /// Asks for `column` in `key`'s table, which has `columns_now` columns
    /// as the row checks know them. Cheap enough for an io thread.
    Answer propose(const Key& key, const NewColumn& column, std::size_t columns_now,
                   const Limits& limits, Clock::time_point now);

    /// The columns being added to `key`'s table, or added and not yet read
    /// by the schema cache; null for none. A new list each time it changes.
    std::shared_ptr<const std::vector<NewColumn>> extra(const Key& key) const;
    /// Changes whenever any table's extra() does.
    std::uint64_t version() const { return version_.load(std::memory_order_acquire); }
    /// Whether `key`'s batches wait: a column of it is not on every server yet.
    bool waits(const Key& key) const;

    /// One round of the thread. Public for the tests, on a fake clock.
    void run_once(Clock::time_point now);
    Clock::time_point next_due() const;

  private:
    enum class State { queued, verifying, landed };
    struct Change {
        NewColumn column;
        std::string also_table;
        State state = State::queued;
        Clock::time_point next{};
        Clock::time_point deadline{};
        std::string alter_error;  ///< why the ALTER failed, if it did
    };
    struct Table {
        std::vector<Change> changes;
        std::deque<Clock::time_point> alters;  ///< in the last minute
        std::map<std::string, std::pair<Clock::time_point, std::string>> failed;  ///< until, why
        std::shared_ptr<const std::vector<NewColumn>> extra;
    };
    /// Runs the ALTER(s) of `c`: "" if they went in or the column was there;
    /// else why not, and whether the server refused it (`permanent`) rather
    /// than could not be asked or timed out.
    std::string alter(const Key& key, const Change& c, bool& permanent);
    /// "" if every server shows the column, else which does not and why.
    std::string verify(const Key& key, const NewColumn& column);
    void rebuild_extra(Table& t) REQUIRES(mutex_);

    const Query query_;
    const Servers servers_;
    const Known known_;
    const Report report_;
    const std::string cluster_;
    const std::chrono::milliseconds verify_for_;
    mutable Mutex mutex_;
    std::map<Key, Table> tables_ GUARDED_BY(mutex_);
    std::size_t pending_ GUARDED_BY(mutex_) = 0;  ///< changes not landed, over all tables
    std::atomic<std::size_t> waiting_{0};         ///< pending_, for waits()'s fast path
    std::atomic<std::uint64_t> version_{0};
    PeriodicTask task_;
};

const char* to_string(SchemaEvolver::Verdict v);

}  // namespace chgate::schema
