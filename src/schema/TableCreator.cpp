#include "schema/TableCreator.hpp"

#include <fstream>
#include <sstream>

#include "clickhouse/ErrorClassifier.hpp"
#include "config/SqlFiles.hpp"
#include "util/Log.hpp"

namespace chgate::schema {
namespace {

constexpr std::chrono::seconds kRetry{5};
constexpr int kTableExists = 57;
constexpr int kDatabaseExists = 82;
// ZooKeeper away (ON CLUSTER, replicated tables): it comes back.
constexpr int kNoZooKeeper = 225;
constexpr int kKeeperException = 999;

// Whether ClickHouse may take the statement later: it did not answer, or
// answered with a code chgate knows as passing (overload, timeouts,
// ZooKeeper). Any other refusal is about the statement.
bool transient(const clickhouse::HttpResponse& r, const clickhouse::InsertOutcome& outcome) {
    if (!r.transport_ok) return true;
    if (outcome.code == kNoZooKeeper || outcome.code == kKeeperException) return true;
    return outcome.error_class == clickhouse::ErrorClass::retry &&
           (outcome.code == 0 || clickhouse::error_name(outcome.code) != nullptr);
}

// The statement's first line, for logs.
std::string head(const std::string& statement) {
    const auto start = statement.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return {};
    auto line = statement.substr(start, statement.find('\n', start) - start);
    return line.size() > 120 ? line.substr(0, 120) + "..." : line;
}

}  // namespace

TableCreator::TableCreator(std::vector<std::string> files, SchemaCache::Query query,
                           std::function<void()> on_done)
    : files_(std::move(files)), query_(std::move(query)), on_done_(std::move(on_done)) {}

void TableCreator::load() {
    std::string error;
    // The files were checked when the configuration was loaded; they may have
    // changed since.
    for (const auto& file : config::sql_files(files_, error)) {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in) {
            LOG_ERROR << "clickhouse.create_tables: cannot read " << file << "; skipped";
            continue;
        }
        for (auto& s : config::sql_statements(text.str()))
            statements_.push_back(std::move(s));
    }
    if (!error.empty()) LOG_ERROR << "clickhouse.create_tables: " << error;
    LockGuard lock(mutex_);
    state_.statements = statements_.size();
}

void TableCreator::start() {
    load();
    task_.start(
        "chgate-create",
        [this](bool last) {
            if (last || run_once()) return PeriodicTask::TimePoint::max();
            return PeriodicTask::TimePoint::clock::now() + kRetry;
        },
        PeriodicTask::TimePoint::clock::now());
}

TableCreator::State TableCreator::state() const {
    LockGuard lock(mutex_);
    return state_;
}

bool TableCreator::run_once() {
    if (next_ >= statements_.size()) return true;
    while (next_ < statements_.size()) {
        const auto& statement = statements_[next_];
        const auto r = query_(statement, 64 * 1024);
        const auto outcome = clickhouse::classify(r);
        const bool exists = outcome.code == kTableExists || outcome.code == kDatabaseExists;
        if (!exists && transient(r, outcome)) {
            LockGuard lock(mutex_);
            if (state_.last_error != outcome.message) {
                LOG_WARN << "clickhouse.create_tables: ClickHouse cannot run \"" << head(statement)
                         << "\" now (" << outcome.message << "); trying again every "
                         << kRetry.count() << " s";
            }
            state_.last_error = outcome.message;
            return false;
        }
        LockGuard lock(mutex_);
        if (outcome.error_class == clickhouse::ErrorClass::none || exists) {
            ++state_.applied;
        } else {
            ++state_.failed;
            state_.last_error = outcome.message;
            LOG_ERROR << "clickhouse.create_tables: ClickHouse refused \"" << head(statement)
                      << "\": " << outcome.message << "; skipped";
        }
        ++next_;
    }
    {
        LockGuard lock(mutex_);
        LOG_INFO << "clickhouse.create_tables: " << state_.applied << " of " << state_.statements
                 << " statements applied" << (state_.failed ? ", " : "")
                 << (state_.failed ? std::to_string(state_.failed) + " refused" : "");
    }
    if (on_done_) on_done_();
    return true;
}

}  // namespace chgate::schema
