#include "batch/TableRegistry.hpp"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "store/Storage.hpp"
#include "util/Log.hpp"

namespace chgate::batch {

namespace {
// What a client is told of a storage failure: the reason (the text after the
// last ": ", as in "cannot create DIR: Too many open files"), not the paths.
std::string storage_error_detail(std::string_view what) {
    const auto colon = what.rfind(": ");
    return std::string(colon == std::string_view::npos ? what : what.substr(colon + 2));
}

// The entry for database.table in `c`'s batching.tables (by its plain name in
// the default database, or qualified), or null.
const std::pair<const std::string, config::TableConfig>* configured_table(
    const config::Config& c, const std::string& database, const std::string& table) {
    const auto& tables = c.batching.tables;
    auto it = tables.end();
    if (database == c.clickhouse.database) it = tables.find(table);
    if (it == tables.end()) it = tables.find(database + "." + table);
    return it == tables.end() ? nullptr : &*it;
}

// Whether database.table is the quarantine table of a table `c` serves: of a
// configured one, or (under unknown_tables: defaults) of one served by the
// defaults.
bool is_quarantine_table(const config::Config& c, const std::string& database,
                         const std::string& table) {
    for (const auto& [name, cfg] : c.batching.tables) {
        if (cfg.on_invalid != config::OnInvalid::quarantine) continue;
        core::TableName parsed;
        if (!core::parse_table_name(name, parsed)) continue;
        const auto& db = parsed.database.empty() ? c.clickhouse.database : parsed.database;
        if (db == database && config::quarantine_table_of(cfg, parsed.table) == table) return true;
    }
    const auto& d = c.batching.defaults;
    if (d.on_invalid != config::OnInvalid::quarantine) return false;
    const std::string_view pattern = d.quarantine_table;
    const auto at = pattern.find("{table}");
    if (at == std::string_view::npos) return pattern == table;
    const auto prefix = pattern.substr(0, at);
    const auto suffix = pattern.substr(at + 7);
    return table.size() > prefix.size() + suffix.size() && table.starts_with(prefix) &&
           table.ends_with(suffix);
}

// What a quarantine table is, whatever the configuration says.
config::TableConfig as_quarantine(config::TableConfig cfg) {
    cfg.schema = config::SchemaCheck::off;
    cfg.on_invalid = config::OnInvalid::reject;
    cfg.shard_by.reset();
    cfg.local_table.clear();
    cfg.distributed = false;
    cfg.schema_evolution = config::SchemaEvolution::off;
    cfg.insert_format = config::InsertFormat::jsoneachrow;  // its rows are whatever clients sent
    return cfg;
}

// batching.enabled: false is the batching design's fallback: every request goes out at once.
config::TableConfig apply_enabled(config::TableConfig cfg, const config::BatchingConfig& b) {
    if (!b.enabled) {
        cfg.strategy = config::StrategyKind::immediate;
        cfg.strategy_name = "immediate";
    }
    return cfg;
}
}  // namespace

TableRegistry::TableRegistry(config::ConfigPtr startup, MemoryBudget& budget,
                             core::RateWindow& inserted_rate, store::Storage* storage)
    : startup_(std::move(startup)),
      budget_(budget),
      inserted_rate_(inserted_rate),
      storage_(storage),
      live_(startup_) {
    // Configured tables exist from the start, so /metrics lists them before traffic.
    WriterLock lock(mutex_);
    for (const auto& shard : startup_->clickhouse.shards)
        weights_.push_back(shard.weight);
    for (const auto& [name, cfg] : startup_->batching.tables) {
        core::TableName parsed;
        core::parse_table_name(name, parsed);
        RouteError error = RouteError::none;
        bool created = false;
        find_or_create_table(
            parsed.database.empty() ? startup_->clickhouse.database : parsed.database, parsed.table,
            RouteFor::client, error, created);
    }
}

std::shared_ptr<Table> TableRegistry::find_or_create_table(const std::string& database,
                                                           const std::string& table, RouteFor why,
                                                           RouteError& error, bool& created) {
    const auto qualified = database + "." + table;
    if (auto it = tables_.find(qualified); it != tables_.end()) return it->second;
    created = true;

    const auto& batching = live_->batching;
    const auto* configured = configured_table(*live_, database, table);
    std::string display = database == startup_->clickhouse.database ? table : qualified;
    bool counted = false;
    config::TableConfig cfg;
    const bool quarantine =
        why == RouteFor::quarantine || is_quarantine_table(*live_, database, table);
    if (quarantine) {
        cfg = as_quarantine(configured != nullptr ? configured->second
                                                  : config::resolve_max_age(batching.defaults));
        if (configured != nullptr) display = configured->first;
    } else if (configured != nullptr) {
        cfg = configured->second;
        display = configured->first;
    } else if (why == RouteFor::recovery) {
        // A log on disk for a table no longer configured: its rows were
        // acknowledged, so they are delivered, with the defaults.
        cfg = config::resolve_max_age(batching.defaults);
        LOG_WARN << "table " << display << " is not configured, but its write-ahead log holds "
                 << "rows; delivering them with the defaults";
    } else {
        if (batching.unknown_tables == config::UnknownTables::reject) {
            error = RouteError::unknown_table;
            return nullptr;
        }
        if (dynamic_tables_ >= batching.max_tables) {
            error = RouteError::too_many_tables;
            return nullptr;
        }
        ++dynamic_tables_;
        counted = true;
        cfg = config::resolve_max_age(batching.defaults);
        LOG_INFO << "table " << display << " is not configured; serving it with the defaults ("
                 << cfg.strategy_name << ")";
    }
    auto t = std::make_shared<Table>(display, database, table, apply_enabled(cfg, batching),
                                     budget_, inserted_rate_, sharding_of(display, cfg));
    t->set_configured(configured != nullptr);
    t->counts_toward_max_tables = counted;
    if (quarantine) t->set_quarantine();
    // Only there to deliver what was accepted earlier: clients are refused
    // as for any table the configuration does not serve.
    if (configured == nullptr && batching.unknown_tables == config::UnknownTables::reject &&
        !quarantine) {
        t->set_retired(true);
    }
    tables_.emplace(qualified, t);
    if (on_new_table_) on_new_table_(*t);
    return t;
}

std::shared_ptr<const Sharding> TableRegistry::sharding_of(const std::string& name,
                                                           const config::TableConfig& cfg) const {
    if (!cfg.shard_by) return nullptr;
    std::optional<core::ShardSlots> slots;
    if (std::any_of(weights_.begin(), weights_.end(), [](auto w) { return w > 0; })) {
        slots.emplace(weights_);
    } else {
        LOG_WARN << "table " << name << " has shard_by, but the cluster's shards are not known "
                 << "yet: its requests are refused until a server tells them (discover)";
    }
    return std::make_shared<const Sharding>(
        Sharding{*cfg.shard_by, std::move(slots), cfg.local_table});
}

void TableRegistry::reshard(const std::vector<std::uint32_t>& weights) {
    WriterLock lock(mutex_);
    if (weights == weights_) return;
    weights_ = weights;
    std::optional<core::ShardSlots> slots;
    if (std::any_of(weights.begin(), weights.end(), [](auto w) { return w > 0; }))
        slots.emplace(weights);
    for (const auto& [name, table] : tables_) {
        if (table->sharding()) table->reshard(slots);
    }
    // Requests from now on open the new shards; those under way keep theirs.
    shard_routes_.clear();
}

Route TableRegistry::route(std::string_view name) {
    {
        ReaderLock lock(mutex_);
        if (auto it = by_name_.find(name); it != by_name_.end()) {
            const auto& table = it->second->table();
            if (table.retired()) return {nullptr, RouteError::unknown_table};
            if (table.missing(Clock::now())) return {nullptr, RouteError::missing};
            return {it->second};
        }
    }
    core::TableName parsed;
    if (!core::parse_table_name(name, parsed)) return {nullptr, RouteError::bad_name};
    auto r = route(parsed, {});
    if (r.buffer && !r.shards) {
        WriterLock lock(mutex_);
        by_name_.emplace(std::string(name), r.buffer);
    }
    return r;
}

Route TableRegistry::route(const core::TableName& name, const std::vector<std::string>& columns) {
    auto r = open_buffer(name, columns, RouteFor::client);
    // A quarantine table takes rows from chgate, and from clients only if
    // the configuration names it.
    if (r.buffer && (r.buffer->table().retired() ||
                     (r.buffer->table().is_quarantine() && !r.buffer->table().configured()))) {
        return {nullptr, RouteError::unknown_table};
    }
    if (r.buffer && r.buffer->table().missing(Clock::now())) return {nullptr, RouteError::missing};
    return r;
}

config::ConfigPtr TableRegistry::live_config() const {
    ReaderLock lock(mutex_);
    return live_;
}

TableRegistry::RetuneResult TableRegistry::retune(const config::ConfigPtr& next, TimePoint now) {
    RetuneResult result;
    WriterLock lock(mutex_);
    {
        live_ = next;
        const auto& batching = next->batching;
        for (const auto& [qualified, table] : tables_) {
            const auto old = table->config();
            const auto* configured = configured_table(*next, table->database(), table->table());
            table->set_configured(configured != nullptr);
            if (configured != nullptr && table->counts_toward_max_tables) {
                // Configured now: no longer one of the tables made on the fly.
                table->counts_toward_max_tables = false;
                --dynamic_tables_;
            }
            config::TableConfig cfg;
            if (table->is_quarantine()) {
                cfg = as_quarantine(configured != nullptr
                                        ? configured->second
                                        : config::resolve_max_age(batching.defaults));
            } else if (configured != nullptr) {
                cfg = configured->second;
            } else if (batching.unknown_tables == config::UnknownTables::defaults) {
                cfg = config::resolve_max_age(batching.defaults);
            } else {
                // As a start with this file would: refused. What it holds is delivered.
                if (!table->retired()) result.retired.push_back(table->name());
                table->set_retired(true);
                continue;
            }
            table->set_retired(false);
            cfg = apply_enabled(cfg, batching);
            if ((old->ack == config::AckLevel::buffered) !=
                (cfg.ack == config::AckLevel::buffered)) {
                result.restart_needed.push_back(
                    "batching.tables." + table->name() + ".ack: " + config::to_string(old->ack) +
                    " to " + config::to_string(cfg.ack) +
                    " (a table's write-ahead log is opened or not at start)");
                cfg.ack = old->ack;
            }
            if (cfg.shard_by != old->shard_by || cfg.local_table != old->local_table) {
                result.restart_needed.push_back(
                    "batching.tables." + table->name() +
                    ".shard_by and local_table (a table's shards and their logs are opened at "
                    "start)");
                cfg.shard_by = old->shard_by;
                cfg.local_table = old->local_table;
            }
            if (cfg == *old) continue;
            table->retune(cfg);
            result.retuned.push_back(table->name());
            for (const auto& [key, buffer] : buffers_) {
                if (buffer->table_ptr() != table) continue;
                if (auto b = buffer->retune(make_strategy(cfg), now))
                    result.sealed.push_back(std::move(*b));
            }
        }
    }
    return result;
}

namespace {
std::string buffer_key(const std::string& database, const std::string& table,
                       const std::vector<std::string>& columns) {
    std::string key = database + "." + table;
    if (!columns.empty()) {
        key += "(";
        for (std::size_t i = 0; i < columns.size(); ++i)
            key += (i ? "," : "") + columns[i];
        key += ")";
    }
    return key;
}

std::string shard_key(const std::string& key, std::uint32_t shard) {
    return shard == 0 ? key : key + "@" + std::to_string(shard);
}
}  // namespace

Route TableRegistry::route_for_recovery(const store::LogTarget& target) {
    return open_buffer({target.database, target.table}, target.columns, RouteFor::recovery,
                       target.shard);
}

Route TableRegistry::route_quarantine(const Table& source) {
    const auto cfg = source.config();
    return open_buffer({source.database(), config::quarantine_table_of(*cfg, source.table())}, {},
                       RouteFor::quarantine);
}

Route TableRegistry::open_buffer(const core::TableName& name,
                                 const std::vector<std::string>& columns, RouteFor why,
                                 std::uint32_t shard) {
    const auto& database = name.database.empty() ? startup_->clickhouse.database : name.database;
    if (!core::fits_name_limit(database, name.table)) return {nullptr, RouteError::name_too_long};
    const auto key = buffer_key(database, name.table, columns);
    {
        ReaderLock lock(mutex_);
        if (why == RouteFor::client) {
            if (auto it = shard_routes_.find(key); it != shard_routes_.end()) {
                Route r(it->second->buffers.front());
                r.shards = it->second;
                return r;
            }
        }
        // A sharded table's own buffer is only for recovery: clients get its shards.
        if (auto it = buffers_.find(shard_key(key, shard));
            it != buffers_.end() && (why != RouteFor::client || !it->second->table().sharding())) {
            return {it->second};
        }
    }
    WriterLock lock(mutex_);
    RouteError error = RouteError::none;
    bool created = false;
    auto table = find_or_create_table(database, name.table, why, error, created);
    if (!table) return {nullptr, error};
    const core::TableName target{database, name.table};
    const auto sharding = table->sharding();
    if (why == RouteFor::client && sharding != nullptr) {
        return open_shards(table, key, target, columns, why, created);
    }
    if (shard != 0 && (sharding == nullptr || shard > sharding->shards())) {
        LOG_WARN << "table " << table->name() << ": rows accepted earlier for shard " << shard
                 << ", which the table has no longer; they go to " << database << "." << name.table
                 << ", whose sharding places them";
        shard = 0;
    }
    return open_one(table, shard_key(key, shard), target, columns, why, created, shard);
}

Route TableRegistry::open_shards(const std::shared_ptr<Table>& table, const std::string& key,
                                 const core::TableName& target,
                                 const std::vector<std::string>& columns, RouteFor why,
                                 bool created) {
    if (auto it = shard_routes_.find(key); it != shard_routes_.end()) {
        Route r(it->second->buffers.front());
        r.shards = it->second;
        return r;
    }
    auto shards = std::make_shared<ShardBuffers>();
    shards->sharding = table->sharding();
    if (shards->sharding->shards() == 0) return {nullptr, RouteError::no_shards};
    for (std::uint32_t s = 1; s <= shards->sharding->shards(); ++s) {
        auto r = open_one(table, shard_key(key, s), target, columns, why, created && s == 1, s);
        if (!r.buffer) return r;
        shards->buffers.push_back(std::move(r.buffer));
    }
    Route r(shards->buffers.front());
    r.shards = shards;
    shard_routes_.emplace(key, std::move(shards));
    return r;
}

Route TableRegistry::open_one(const std::shared_ptr<Table>& table, const std::string& key,
                              const core::TableName& target,
                              const std::vector<std::string>& columns, RouteFor why, bool created,
                              std::uint32_t shard) {
    if (auto it = buffers_.find(key); it != buffers_.end()) return {it->second};
    if (closing_.contains(key)) return {nullptr, RouteError::closing};
    // A client may not make a table's column lists grow without bound; rows
    // accepted earlier are delivered whatever the cap is now. The shards of
    // one column list count once.
    auto& lists = column_lists_[table.get()];
    const bool new_list = !columns.empty() && shard <= 1;
    if (new_list && why == RouteFor::client && lists >= live_->batching.max_buffers_per_table) {
        return {nullptr, RouteError::too_many_buffers};
    }
    std::shared_ptr<store::Wal> wal;
    std::unique_ptr<store::PendingReplay> replay;
    if (auto failed = open_log(table, {target.database, target.table, columns, shard}, why, created,
                               wal, replay);
        failed.error != RouteError::none) {
        return failed;
    }
    const bool log_appends = table->config()->ack != config::AckLevel::buffered;
    auto buffer = std::make_shared<TableBuffer>(table, columns, make_strategy(*table->config()),
                                                wal, log_appends, shard);
    if (replay) pending_replays_.emplace_back(buffer, std::move(replay));
    buffers_.emplace(key, buffer);
    if (new_list) ++lists;
    return {buffer};
}

Route TableRegistry::open_log(const std::shared_ptr<Table>& table, const store::LogTarget& target,
                              RouteFor why, bool created, std::shared_ptr<store::Wal>& wal,
                              std::unique_ptr<store::PendingReplay>& replay) {
    // Tables with ack durable or committed log every append. Recovery opens
    // the log even of a table now configured as buffered.
    const bool log_appends = table->config()->ack != config::AckLevel::buffered;
    if (storage_ == nullptr || (!log_appends && why != RouteFor::recovery)) return {};
    // Runs on an io thread: a failure here (no file descriptors left, a full
    // disk) refuses this request, and the next one tries again.
    try {
        auto opened = storage_->open(target);
        wal = std::move(opened.wal);
        replay = std::move(opened.replay);
        return {};
    } catch (const std::exception& e) {
        LOG_ERROR << "table " << table->name() << ": cannot open its write-ahead log: " << e.what();
        if (created) {
            // Made for this request only: it must not take a max_tables slot.
            tables_.erase(target.database + "." + target.table);
            column_lists_.erase(table.get());
            if (table->counts_toward_max_tables) --dynamic_tables_;
        }
        return {nullptr, RouteError::storage_failed, storage_error_detail(e.what())};
    }
}

std::vector<std::pair<std::shared_ptr<TableBuffer>, std::unique_ptr<store::PendingReplay>>>
TableRegistry::take_pending_replays() {
    WriterLock lock(mutex_);
    return std::exchange(pending_replays_, {});
}

std::size_t TableRegistry::close_idle_buffers(TimePoint now) {
    Closing closing;
    {
        WriterLock lock(mutex_);
        if (!ready_.load()) return 0;  // replay holds buffers of its own
        closing = take_idle_buffers(now);
        if (closing.empty()) return 0;
        drop_tables_without_buffers();
    }
    // Outside the lock: removing the logs waits for the log writer. Each
    // column list can be made anew as soon as its own log is gone.
    for (const auto& [key, buffer] : closing) {
        if (buffer->wal() && storage_ != nullptr) storage_->writer().retire(buffer->wal());
        {
            WriterLock lock(mutex_);
            closing_.erase(key);
        }
        LOG_DEBUG << buffer->label() << ": idle; its buffer is closed";
    }
    return closing.size();
}

TableRegistry::Closing TableRegistry::take_idle_buffers(TimePoint now) {
    const auto ttl = live_->batching.idle_buffer_ttl;
    std::unordered_map<const TableBuffer*, long> name_refs;
    for (const auto& [name, b] : by_name_)
        ++name_refs[b.get()];
    // A request holding a shard route holds every buffer in it.
    std::unordered_set<const TableBuffer*> routed;
    for (const auto& [key, shards] : shard_routes_) {
        for (const auto& b : shards->buffers) {
            if (shards.use_count() == 1) {
                ++name_refs[b.get()];
            } else {
                routed.insert(b.get());
            }
        }
    }
    Closing closing;
    for (auto it = buffers_.begin(); it != buffers_.end();) {
        const auto& buffer = it->second;  // a reference: use_count() stays exact
        const auto& table = buffer->table();
        const bool closable = !buffer->columns().empty() || !table.configured() || table.retired();
        // Held only by the maps: no request, batch, spool or dead-letter
        // replay has it, and under this lock none can get it.
        const auto named = name_refs.find(buffer.get());
        const long refs = 1 + (named == name_refs.end() ? 0 : named->second);
        if (!closable || routed.contains(buffer.get()) || buffer->held() ||
            now - buffer->last_used() < ttl || buffer->oldest_open_event() != TimePoint::max() ||
            buffer.use_count() != refs) {
            ++it;
            continue;
        }
        closing.emplace_back(it->first, buffer);
        closing_.insert(it->first);
        it = buffers_.erase(it);
    }
    std::unordered_set<const TableBuffer*> closed;
    for (const auto& [key, buffer] : closing) {
        closed.insert(buffer.get());
        if (!buffer->columns().empty() && buffer->shard() <= 1) --column_lists_[&buffer->table()];
    }
    std::erase_if(by_name_, [&](const auto& entry) { return closed.contains(entry.second.get()); });
    // A shard route missing a buffer is made anew at the next request.
    std::erase_if(shard_routes_, [&](const auto& entry) {
        return std::any_of(entry.second->buffers.begin(), entry.second->buffers.end(),
                           [&](const auto& b) { return closed.contains(b.get()); });
    });
    return closing;
}

void TableRegistry::drop_tables_without_buffers() {
    std::unordered_set<const Table*> with_buffers;
    for (const auto& [key, b] : buffers_)
        with_buffers.insert(&b->table());
    for (auto it = tables_.begin(); it != tables_.end();) {
        const auto& t = it->second;
        if (t->configured() || with_buffers.contains(t.get())) {
            ++it;
            continue;
        }
        if (t->counts_toward_max_tables) --dynamic_tables_;
        column_lists_.erase(t.get());
        LOG_INFO << "table " << t->name() << ": idle for "
                 << config::format_duration(live_->batching.idle_buffer_ttl) << "; closed";
        it = tables_.erase(it);
    }
}

std::shared_ptr<Table> TableRegistry::find_table(std::string_view name) const {
    core::TableName parsed;
    if (!core::parse_table_name(name, parsed)) return nullptr;
    const auto& database =
        parsed.database.empty() ? startup_->clickhouse.database : parsed.database;
    ReaderLock lock(mutex_);
    const auto it = tables_.find(database + "." + parsed.table);
    return it == tables_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Table>> TableRegistry::tables() const {
    ReaderLock lock(mutex_);
    std::vector<std::shared_ptr<Table>> out;
    out.reserve(tables_.size());
    for (const auto& [key, t] : tables_)
        out.push_back(t);
    return out;
}

std::vector<std::shared_ptr<TableBuffer>> TableRegistry::buffers() const {
    ReaderLock lock(mutex_);
    std::vector<std::shared_ptr<TableBuffer>> out;
    out.reserve(buffers_.size());
    for (const auto& [key, b] : buffers_)
        out.push_back(b);
    return out;
}

std::vector<std::pair<std::string, std::string>> TableRegistry::failed_logs() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& b : buffers()) {
        if (!b->wal()) continue;
        if (auto why = b->wal()->failure(); !why.empty())
            out.emplace_back(b->table().name(), std::move(why));
    }
    return out;
}

}  // namespace chgate::batch
