#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clickhouse/HttpResponse.hpp"
#include "schema/TableSchema.hpp"
#include "util/Mutex.hpp"
#include "util/PeriodicTask.hpp"

namespace chgate::schema {

/// What chgate knows of one table's columns.
struct Known {
    /// The columns, as last read; empty when the table does not exist (then
    /// `exists` is false). Null until a server has answered for the table.
    std::shared_ptr<const std::vector<Column>> columns;
    bool exists = false;
    std::chrono::system_clock::time_point read_at{};  ///< when `columns` were read
    std::chrono::steady_clock::time_point read_steady{};
    std::string error;  ///< why the last read failed, if it did (the columns stay)
};

/// Each table's columns, read from system.columns on a thread of its own:
/// soon after a table is wanted (its buffer opens, GET /v1/tables), again
/// after an INSERT into it failed for its schema, on every reload, and every
/// `refresh`. Readers never wait for ClickHouse: they get what was read last.
/// At most `max_tables` tables are kept; one more is not read (and says so).
class SchemaCache {
  public:
    using Clock = std::chrono::steady_clock;
    /// Runs `sql` on a ClickHouse server, keeping at most `max_answer`
    /// bytes of the answer; called on the cache's thread only.
    using Query =
        std::function<clickhouse::HttpResponse(const std::string& sql, std::size_t max_answer)>;

    SchemaCache(Query query, std::chrono::milliseconds refresh, std::size_t max_tables);
    ~SchemaCache() { stop(); }

    using Key = std::pair<std::string, std::string>;  ///< database, table
    /// The tables that exist in chgate now: each round forgets the others.
    using Tables = std::function<std::vector<Key>()>;
    /// Set before start().
    void follow(Tables tables) { tables_ = std::move(tables); }

    /// The CREATE statement of a table chgate makes when it finds it missing
    /// (a quarantine table), or "" for a table it leaves alone. Called on the
    /// cache's thread. Set before start().
    using Creator = std::function<std::string(const Key&)>;
    void creates(Creator creator) { creator_ = std::move(creator); }

    void start();
    void stop() { task_.stop(); }

    /// Reads the table's columns soon, if they are not known yet. Cheap
    /// enough for an io thread: a lock, a lookup, a wake. `database` and
    /// `table` must be identifiers. Returns false when the cache is full.
    bool want(const std::string& database, const std::string& table);
    /// Reads them again soon (an INSERT failed for the table's schema).
    void refresh(const std::string& database, const std::string& table);
    /// Reads every table again soon (a reload).
    void refresh_all();

    /// What is known of the table; nullopt if it was never wanted.
    std::optional<Known> get(const std::string& database, const std::string& table) const;
    /// The table's columns, if it exists and they were read; else null.
    std::shared_ptr<const std::vector<Column>> columns(const std::string& database,
                                                       const std::string& table) const;

    /// One round of the thread: reads what is due at `now`. Public for the
    /// tests, which run it on a fake clock.
    void run_once(Clock::time_point now);
    /// When the next round is due, after run_once().
    Clock::time_point next_due() const;

    std::size_t size() const;

  private:
    struct Entry {
        Known known;
        Clock::time_point due;     ///< when to read it next
        std::uint64_t wanted = 0;  ///< wants_ when it was wanted
    };

    void read(const Key& key, Clock::time_point now);
    /// Runs `sql` (a CREATE); "" if it went in, else why not.
    std::string create(const Key& key, const std::string& sql);

    const Query query_;
    const std::chrono::milliseconds refresh_;
    const std::size_t max_tables_;
    Tables tables_;
    Creator creator_;
    mutable Mutex mutex_;
    std::map<Key, Entry> entries_ GUARDED_BY(mutex_);
    bool full_logged_ GUARDED_BY(mutex_) = false;
    // Counts want()s: a table wanted after the registry was listed stays.
    std::uint64_t wants_ GUARDED_BY(mutex_) = 0;
    PeriodicTask task_;
};

}  // namespace chgate::schema
