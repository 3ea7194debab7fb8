#include "schema/SchemaCache.hpp"

#include <algorithm>

#include "util/Log.hpp"

namespace chgate::schema {

namespace {
// A read that failed is tried again this soon (or at the refresh, if sooner).
constexpr std::chrono::seconds kRetry{5};
// The answer of a table at kMaxColumns columns, with long types.
constexpr std::size_t kMaxAnswer = 8 << 20;
}  // namespace

SchemaCache::SchemaCache(Query query, std::chrono::milliseconds refresh, std::size_t max_tables)
    : query_(std::move(query)), refresh_(refresh), max_tables_(max_tables) {}

void SchemaCache::start() {
    task_.start(
        "chgate-schema",
        [this](bool last) {
            if (last) return Clock::now();
            run_once(Clock::now());
            return next_due();
        },
        Clock::now());
}

bool SchemaCache::want(const std::string& database, const std::string& table) {
    {
        LockGuard lock(mutex_);
        Key key{database, table};
        if (entries_.contains(key)) return true;
        if (entries_.size() >= max_tables_) {
            if (!full_logged_) {
                LOG_WARN << "schema: " << max_tables_ << " tables' columns are known already; "
                         << database << "." << table << " and others are not read";
                full_logged_ = true;
            }
            return false;
        }
        entries_.emplace(std::move(key), Entry{{}, Clock::time_point::min(), ++wants_});
    }
    task_.wake();
    return true;
}

void SchemaCache::refresh(const std::string& database, const std::string& table) {
    {
        LockGuard lock(mutex_);
        const auto it = entries_.find({database, table});
        if (it == entries_.end()) return;
        it->second.due = Clock::time_point::min();
    }
    task_.wake();
}

void SchemaCache::refresh_all() {
    {
        LockGuard lock(mutex_);
        for (auto& [key, entry] : entries_)
            entry.due = Clock::time_point::min();
    }
    task_.wake();
}

std::optional<Known> SchemaCache::get(const std::string& database, const std::string& table) const {
    LockGuard lock(mutex_);
    const auto it = entries_.find({database, table});
    if (it == entries_.end()) return std::nullopt;
    return it->second.known;
}

std::shared_ptr<const std::vector<Column>> SchemaCache::columns(const std::string& database,
                                                                const std::string& table) const {
    LockGuard lock(mutex_);
    const auto it = entries_.find({database, table});
    if (it == entries_.end() || !it->second.known.exists) return nullptr;
    return it->second.known.columns;
}

std::size_t SchemaCache::size() const {
    LockGuard lock(mutex_);
    return entries_.size();
}

SchemaCache::Clock::time_point SchemaCache::next_due() const {
    LockGuard lock(mutex_);
    auto next = Clock::time_point::max();
    for (const auto& [key, entry] : entries_)
        next = std::min(next, entry.due);
    return next;
}

void SchemaCache::run_once(Clock::time_point now) {
    std::vector<Key> due;
    // Outside the lock: the list comes from the table registry's.
    std::optional<std::vector<Key>> live;
    std::uint64_t listed_after = 0;
    if (tables_) {
        {
            LockGuard lock(mutex_);
            listed_after = wants_;
        }
        live = tables_();
        std::sort(live->begin(), live->end());
    }
    {
        LockGuard lock(mutex_);
        if (live) {
            // Tables gone from chgate (closed when idle, removed by a reload)
            // leave room for new ones.
            std::erase_if(entries_, [&](const auto& e) {
                return e.second.wanted <= listed_after &&
                       !std::binary_search(live->begin(), live->end(), e.first);
            });
            if (entries_.size() < max_tables_) full_logged_ = false;
        }
        for (const auto& [key, entry] : entries_) {
            if (entry.due <= now) due.push_back(key);
        }
    }
    // Outside the lock: each read waits for ClickHouse.
    for (const auto& key : due)
        read(key, now);
}

std::string SchemaCache::create(const Key& key, const std::string& sql) {
    const auto r = query_(sql, 64 * 1024);
    if (r.transport_ok && r.status == 200) {
        LOG_INFO << "schema: created " << key.first << "." << key.second;
        return {};
    }
    return r.transport_ok ? "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300)
                          : r.transport_error;
}

void SchemaCache::read(const Key& key, Clock::time_point now) {
    std::string error;
    std::optional<std::vector<Column>> columns;
    // A missing table chgate makes is created, then read again.
    for (int pass = 0; pass < 2; ++pass) {
        columns.reset();
        const auto r = query_(system_columns_query(key.first, key.second), kMaxAnswer);
        if (!r.transport_ok) {
            error = r.transport_error;
        } else if (r.status != 200) {
            error = "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
        } else if (r.truncated) {
            error = "the answer is over " + std::to_string(kMaxAnswer) + " bytes";
        } else {
            columns = parse_system_columns(r.body, error);
        }
        if (pass > 0 || !columns || !columns->empty() || !creator_) break;
        const auto sql = creator_(key);
        if (sql.empty()) break;
        if (auto failed = create(key, sql); !failed.empty()) {
            columns.reset();
            error = "it is missing, and creating it failed: " + failed;
            break;
        }
    }
    LockGuard lock(mutex_);
    const auto it = entries_.find(key);
    if (it == entries_.end()) return;
    auto& entry = it->second;
    if (!columns) {
        if (entry.known.error != error) {
            LOG_WARN << "schema: cannot read the columns of " << key.first << "." << key.second
                     << ": " << error;
        }
        entry.known.error = std::move(error);
        entry.due = now + std::min<Clock::duration>(kRetry, refresh_);
        return;
    }
    const bool exists = !columns->empty();
    const bool changed = !entry.known.columns || *entry.known.columns != *columns;
    if (changed && entry.known.columns) {
        LOG_INFO << "schema: the columns of " << key.first << "." << key.second << " changed ("
                 << entry.known.columns->size() << " before, " << columns->size() << " now)";
    }
    if (changed)
        entry.known.columns = std::make_shared<const std::vector<Column>>(std::move(*columns));
    entry.known.exists = exists;
    entry.known.read_at = std::chrono::system_clock::now();
    entry.known.read_steady = now;
    entry.known.error.clear();
    entry.due = now + refresh_;
}

}  // namespace chgate::schema
