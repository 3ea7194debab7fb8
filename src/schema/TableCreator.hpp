#pragma once

#include <string>
#include <vector>

#include "schema/SchemaCache.hpp"
#include "util/Mutex.hpp"
#include "util/PeriodicTask.hpp"

namespace chgate::schema {

/// clickhouse.create_tables: runs the statements of the SQL files, in order,
/// on a thread of its own at start. A statement ClickHouse cannot take now
/// (not reachable, busy) is tried again every few seconds; one it refuses
/// (a syntax error, say) is logged and skipped. "Already exists" counts as
/// done, so the files may be applied at every start.
class TableCreator {
  public:
    /// `on_done` runs once every statement is done or skipped (the schema
    /// cache reads the tables again then).
    TableCreator(std::vector<std::string> files, SchemaCache::Query query,
                 std::function<void()> on_done);
    ~TableCreator() { stop(); }

    /// Reads the files (a file that cannot be read now is logged and skipped).
    void load();
    /// load(), then runs the statements on the thread.
    void start();
    void stop() { task_.stop(); }

    struct State {
        std::size_t statements = 0;
        std::size_t applied = 0;
        std::size_t failed = 0;  ///< refused by ClickHouse, skipped
        std::string last_error;
    };
    State state() const;

    /// One round: runs what is left, from the next statement, until one must
    /// wait. Returns whether everything is done. Public for the tests.
    bool run_once();

  private:
    const std::vector<std::string> files_;
    const SchemaCache::Query query_;
    const std::function<void()> on_done_;
    std::vector<std::string> statements_;  // the task's thread only, once started
    std::size_t next_ = 0;
    mutable Mutex mutex_;
    State state_ GUARDED_BY(mutex_);
    PeriodicTask task_;
};

}  // namespace chgate::schema
