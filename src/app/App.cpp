#include "app/App.hpp"
#include "util/ThreadName.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "batch/QuarantineReplay.hpp"
#include "clickhouse/ErrorClassifier.hpp"
#include "clickhouse/HttpClient.hpp"
#include "clickhouse/ReplicaSender.hpp"
#include "config/Cidr.hpp"
#include "config/ConfigDiff.hpp"
#include "config/ListenAddress.hpp"
#include "http/AdminHandler.hpp"
#include "http/RowChecks.hpp"
#include "schema/TableDdl.hpp"
#include "store/DeadLetters.hpp"
#include "store/Spool.hpp"
#include "util/Log.hpp"
#include "util/Version.hpp"

namespace chgate::app {

namespace {

sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

const char* signal_name(int sig) {
    switch (sig) {
        case SIGINT:
            return "SIGINT";
        case SIGTERM:
            return "SIGTERM";
        case SIGHUP:
            return "SIGHUP";
    }
    return "a signal";
}

}  // namespace

namespace {

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items)
        out += (out.empty() ? "" : ", ") + i;
    return out;
}

store::StorageOptions storage_options(const config::Config& c) {
    store::StorageOptions o;
    o.dir = std::filesystem::absolute(c.storage.dir);
    o.wal.segment_size = c.storage.segment_size;
    o.wal.preallocate = c.storage.preallocate;
    o.wal.fsync = c.storage.fsync;
    o.fsync_interval = c.storage.fsync_interval;
    o.max_disk = c.storage.max_disk;
    return o;
}

}  // namespace

App::App(config::LoadedConfig loaded, std::string config_path)
    : config_(loaded.config),
      warnings_(std::move(loaded.warnings)),
      config_path_(std::move(config_path)),
      storage_(std::make_unique<store::Storage>(storage_options(*config_))),
      inserted_rate_(Clock::now()),
      budget_(config_->batching.max_memory),
      replicas_(config_->clickhouse),
      cluster_check_(config_->clickhouse.discover
                         ? std::make_unique<clickhouse::ClusterCheck>(
                               config_->clickhouse, replicas_,
                               [this](const auto& shards) { apply_shards(shards, "discover"); })
                         : nullptr),
      manager_(config_, queue_, budget_, inserted_rate_, storage_.get()),
      flusher_(queue_, config_->clickhouse,
               clickhouse::ReplicaSender::factory(config_->clickhouse, replicas_), storage_.get()),
      spool_replayer_(storage_->spool(), manager_, queue_, replicas_,
                      config_->storage.spool_replay_rate),
      router_(manager_, budget_, inserted_rate_, replicas_, storage_.get(), progress_),
      server_(config_->server, router_) {
    router_.set_cluster_check(cluster_check_.get());
    // Every table chgate may have: the configured ones, those served by default,
    // and room for the rest.
    schemas_ = std::make_unique<schema::SchemaCache>(
        schema_query(), config_->clickhouse.schema_refresh,
        config_->batching.tables.size() + config_->batching.max_tables + 64);
    router_.set_schemas(schemas_.get());
    quarantine_ = std::make_unique<batch::Quarantine>(manager_);
    router_.set_quarantine(quarantine_.get());
    evolver_ = std::make_unique<schema::SchemaEvolver>(
        server_query(),
        [this] {
            std::vector<std::string> urls;
            for (const auto& r : replicas_.servers())
                urls.push_back(r->url);
            return urls;
        },
        [this](const schema::SchemaEvolver::Key& key, const std::string& column) {
            const auto columns = schemas_->columns(key.first, key.second);
            return columns &&
                   std::any_of(columns->begin(), columns->end(),
                               [&](const schema::Column& c) { return c.name == column; });
        },
        [this](const schema::SchemaEvolver::Key& key, const schema::NewColumn&,
               const std::string& error) {
            // The row checks take the column from the cache once it is read.
            if (error.empty()) schemas_->refresh(key.first, key.second);
            on_column_change(key, error.empty());
        },
        config_->clickhouse.cluster_name);
    router_.set_evolver(evolver_.get());
    encoders_ = std::make_unique<schema::RowBinaryEncoders>(
        *schemas_,
        [query = schema_query()]() -> std::optional<std::string> {
            const auto r = query("SELECT timezone()", 1024);
            if (!r.transport_ok || r.status != 200) return std::nullopt;
            auto zone = r.body;
            while (!zone.empty() && (zone.back() == '\n' || zone.back() == '\r'))
                zone.pop_back();
            return zone;
        },
        [&settings = config_->clickhouse.settings] {
            const auto it = settings.find("date_time_input_format");
            return it != settings.end() && it->second == "best_effort";
        }());
    router_.set_encoders(encoders_.get());
    if (!config_->clickhouse.create_tables.empty()) {
        creator_ = std::make_unique<schema::TableCreator>(
            config_->clickhouse.create_tables, schema_query(config_->clickhouse.database),
            [this] { schemas_->refresh_all(); });
        router_.set_table_creator(creator_.get());
    }
}

schema::SchemaCache::Query App::schema_query(std::string database) {
    const auto& cfg = config_->clickhouse;
    // Made on the cache's thread, at its first query (after HttpClient::global_init).
    auto client = std::make_shared<std::unique_ptr<clickhouse::HttpClient>>();
    return [this, client, &cfg, database = std::move(database)](const std::string& sql,
                                                                std::size_t max_answer) {
        if (!*client) {
            *client = std::make_unique<clickhouse::HttpClient>(
                clickhouse::HttpClient::Credentials{cfg.user, cfg.password},
                std::min<std::chrono::milliseconds>(cfg.timeout, std::chrono::seconds(10)),
                cfg.tls);
        }
        clickhouse::HttpResponse r;
        r.transport_error = "no ClickHouse server to ask";
        const auto set = replicas_.unsharded();
        // Servers that answer their probe first.
        for (const bool reachable : {true, false}) {
            for (const auto& replica : set->replicas()) {
                if (replica->monitor.reachable() != reachable) continue;
                r = (*client)->query(replica->url, sql, max_answer, database);
                if (r.transport_ok) return r;
            }
        }
        return r;
    };
}

schema::SchemaEvolver::Query App::server_query() {
    const auto& cfg = config_->clickhouse;
    auto any = schema_query();
    // Made on the evolver's thread, at its first query (after HttpClient::global_init).
    auto client = std::make_shared<std::unique_ptr<clickhouse::HttpClient>>();
    return [any, client, &cfg](const std::string& url, const std::string& sql) {
        constexpr std::size_t kMaxAnswer = 64 * 1024;
        if (url.empty()) return any(sql, kMaxAnswer);
        if (!*client) {
            *client = std::make_unique<clickhouse::HttpClient>(
                clickhouse::HttpClient::Credentials{cfg.user, cfg.password},
                std::min<std::chrono::milliseconds>(cfg.timeout, std::chrono::seconds(10)),
                cfg.tls);
        }
        return (*client)->query(url, sql, kMaxAnswer);
    };
}

void App::on_column_change(const schema::SchemaEvolver::Key& key, bool added) {
    for (const auto& table : manager_.registry().tables()) {
        if (table->database() == key.first && table->insert_table() == key.second)
            table->on_column_change(added);
    }
}

void App::move_dead_letters() {
    auto& dead_letters = storage_->dead_letters();
    const auto counts = dead_letters.counts();
    if (counts.empty()) return;
    for (const auto& table : manager_.registry().tables()) {
        if (table->is_quarantine() ||
            table->config()->on_invalid != config::OnInvalid::quarantine ||
            !counts.contains(table->database() + "." + table->table())) {
            continue;
        }
        std::string error;
        quarantine_->take_dead_letters(*table, dead_letters, error);
    }
}

batch::QuarantineReplayResult App::replay_quarantine(batch::Table& table,
                                                     const batch::QuarantineFilter& filter,
                                                     const std::atomic<bool>& stop) {
    // A replay follows a schema fix: the columns are read again first, and
    // the row checks look at them again (once a second).
    const auto asked = schema::SchemaCache::Clock::now();
    schemas_->refresh(table.database(), table.insert_table());
    for (int i = 0; i < 100 && !stop.load(); ++i) {
        const auto known = schemas_->get(table.database(), table.insert_table());
        if (known && known->read_steady >= asked) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    const auto run = schema_query();
    const batch::QuarantineQuery query = [run](const std::string& sql, std::string& answer,
                                               std::string& error) {
        constexpr std::size_t kMaxAnswer = 256u << 20;
        auto r = run(sql, kMaxAnswer + 1);
        if (!r.transport_ok) {
            error = r.transport_error;
        } else if (r.status != 200) {
            error = "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
        } else if (r.truncated) {
            error = "ClickHouse's answer is over 256 MiB";
        } else {
            answer = std::move(r.body);
            return true;
        }
        return false;
    };
    auto* checks = router_.row_checks();
    const batch::QuarantineCheck check = [checks, &table](
                                             std::string_view row,
                                             std::string& rewritten) -> std::optional<std::string> {
        const auto cfg = table.config();
        if (checks == nullptr || cfg->schema == config::SchemaCheck::off) return std::nullopt;
        const auto checker = checks->checker(table, *cfg, http::RowChecks::Clock::now());
        if (!checker) return std::nullopt;  // columns not known: ClickHouse checks them
        std::string scratch;
        bool changed = false;
        const auto fault = cfg->schema == config::SchemaCheck::coerce
                               ? checker->coerce(row, scratch, rewritten, changed)
                               : checker->check(row, scratch);
        if (!fault) return std::nullopt;
        return fault->reason +
               (fault->expected.empty() ? "" : " (column type " + fault->expected + ")");
    };
    return batch::replay_quarantine(manager_, *quarantine_, table, filter, query, check, stop,
                                    &progress_);
}

void App::block_signals() {
    const auto set = handled_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    // Writes to a socket the peer closed must fail with EPIPE, not kill us.
    signal(SIGPIPE, SIG_IGN);
}

void App::log_start() const {
    LOG_INFO << "chgate " << kVersion << " starting: " << config_->batching.tables.size()
             << " configured tables, batching " << (config_->batching.enabled ? "on" : "OFF")
             << ", ClickHouse " << join(config_->clickhouse.urls) << ", storage "
             << storage_->dir().string() << " (fsync " << config::to_string(config_->storage.fsync)
             << ")";
    for (const auto& w : warnings_)
        LOG_WARN << "config: " << w;
    if (config_->auth.tokens.empty()) {
        std::string ignored;
        if (config::is_loopback_host(config::parse_listen_address(config_->server.listen, ignored)
                                         .value_or(config::ListenAddress{})
                                         .host)) {
            LOG_INFO << "auth.tokens is empty: ingest is open, on loopback ("
                     << config_->server.listen << ") only";
        } else {
            LOG_WARN << "auth.tokens is empty and auth.allow_anonymous is set: ingest is open to "
                        "anyone who can reach "
                     << config_->server.listen;
        }
    }
    if (!config_->admin.token) {
        LOG_INFO << "admin.token is not set: /admin/ is open on a loopback address, closed on "
                    "any other";
    }
}

void App::start() {
    log::set_format(config_->log.format);
    log::set_level(config_->log.level);
    log::set_rate_limit(config_->log.rate_limit_lines, config_->log.rate_limit_interval);
    log_start();
    // Bind first: a port in use fails before any thread exists.
    server_.listen();
    clickhouse::HttpClient::global_init();
    try {
        start_threads();
    } catch (...) {
        // Stop what did start, in order, so that no thread outlives App; then report.
        stop_replay_.store(true);
        if (replay_.joinable()) replay_.join();
        spool_replayer_.stop();
        dead_letter_mover_.stop();
        manager_.stop();
        queue_.close();
        flusher_.join();
        storage_->writer().stop();
        if (creator_) creator_->stop();
        evolver_->stop();
        schemas_->stop();
        if (cluster_check_) cluster_check_->stop();
        replicas_.stop();
        throw;
    }
}

void App::start_threads() {
    // ClickHouse first (so the first INSERT knows the server), then the log
    // writer and the senders, the timer that feeds them, the door for clients,
    // and the replay of what the logs hold. Ingest answers 503 until replay is done.
    replicas_.start();
    if (cluster_check_) cluster_check_->start();
    // Each table's columns: read once a table exists, again when ClickHouse
    // refuses its rows for them.
    auto& registry = manager_.registry();
    schemas_->follow([&registry] {
        std::vector<schema::SchemaCache::Key> out;
        for (const auto& t : registry.tables())
            out.emplace_back(t->database(), t->insert_table());
        return out;
    });
    registry.on_new_table(
        [this](const batch::Table& t) { schemas_->want(t.database(), t.insert_table()); });
    for (const auto& t : registry.tables())
        schemas_->want(t->database(), t->insert_table());
    flusher_.on_schema_suspect([this](const flush::BatchTarget& target) {
        schemas_->refresh(target.files.database, target.insert_table);
    });
    flusher_.on_waits_for_columns([this](const flush::BatchTarget& target) {
        return evolver_->waits({target.files.database, target.insert_table});
    });
    flusher_.on_encode([this](const flush::BatchTarget& target, const config::TableConfig& cfg,
                              std::string_view rows, std::string& query, std::string& body) {
        return encoders_->encode(target.files.database, target.insert_table, target.insert_query,
                                 cfg.unknown_fields == config::UnknownFields::ignore, rows, query,
                                 body);
    });
    flusher_.on_quarantine([this, &registry](flush::BatchOwner& owner, std::uint64_t batch_id,
                                             std::span<const store::DeadRow> bad,
                                             std::string& error) {
        const auto& files = owner.target().files;
        const auto table = registry.find_table(files.database + "." + files.table);
        if (!table) {
            error = "the table is gone";
            return false;
        }
        std::vector<std::string> fields;
        std::vector<batch::QuarantinedRow> rows;
        fields.reserve(bad.size());  // no reallocation: rows view them
        rows.reserve(bad.size());
        for (const auto& r : bad) {
            fields.push_back(clickhouse::field_of_error(r.message));
            rows.push_back({r.row, r.code, fields.back(), r.message});
        }
        return quarantine_->add(*table, batch::QuarantineStage::insert, std::to_string(batch_id),
                                "", rows, error, true);
    });
    // Tables chgate creates when it finds them missing: a quarantine table,
    // and a table (or a sharded table's local_table) with create:.
    schemas_->creates([this, &registry](const schema::SchemaCache::Key& key) {
        for (const auto& table : registry.tables()) {
            if (table->database() != key.first || table->insert_table() != key.second) continue;
            // A quarantine table's own create: wins (a Replicated one, say).
            const auto cfg = table->config();
            if (cfg->create) {
                return schema::create_table_sql(key.first, key.second, *cfg->create,
                                                config_->clickhouse.cluster_name);
            }
            if (table->is_quarantine()) return batch::quarantine_table_ddl(key.first, key.second);
        }
        return std::string();
    });
    schemas_->start();
    evolver_->start();
    if (creator_) creator_->start();
    storage_->writer().start();
    flusher_.start();
    manager_.start();
    spool_replayer_.set_progress(&progress_);
    spool_replayer_.start();
    // Dead letters of tables with on_invalid: quarantine move into their
    // quarantine tables, once the logs are replayed, every 10 s.
    dead_letter_mover_.start(
        "chgate-dlq-move",
        [this](bool last) {
            const auto next = PeriodicTask::TimePoint::clock::now() + std::chrono::seconds(10);
            if (last || !manager_.registry().ready()) return next;
            move_dead_letters();
            return next;
        },
        PeriodicTask::TimePoint::clock::now() + std::chrono::seconds(1));
    router_.admin().set_progress(&progress_);
    manager_.set_progress(&progress_);
    router_.admin().set_reload([this] { return reload(); });
    router_.admin().set_drain([this](std::chrono::milliseconds t) { return drain(t); });
    router_.admin().set_quarantine_replay(
        [this](batch::Table& table, const batch::QuarantineFilter& filter,
               const std::atomic<bool>& stop) { return replay_quarantine(table, filter, stop); });
    server_.start();
    replay_ = std::thread([this] {
        set_thread_name("chgate-replay");
        manager_.replay(stop_replay_);
        if (stop_replay_.load()) return;
        const auto t = manager_.replayer().totals();
        LOG_INFO << "ready: replayed " << t.rows << " rows in " << t.batches << " batches from "
                 << t.logs << " write-ahead logs";
    });
}

config::ReloadReport App::reload() {
    LockGuard lock(reload_mutex_);
    config::ReloadReport report;
    config::LoadedConfig loaded;
    try {
        loaded = config::load_config_file(config_path_);
    } catch (const config::ConfigError& e) {
        report.error = e.what();
        router_.reload_counts().record(false, unix_ms_now());
        LOG_ERROR << "reload: " << config_path_ << " is invalid, nothing changed: " << e.what();
        return report;
    }
    const auto live = manager_.registry().live_config();
    const auto changes = config::diff_configs(*live, *loaded.config);
    auto next =
        std::make_shared<const config::Config>(config::apply_reloadable(*live, *loaded.config));
    const auto retuned = manager_.retune(next, Clock::now());
    if (next->clickhouse.shards != live->clickhouse.shards) {
        apply_shards(next->clickhouse.shards, "reload");
    }
    // discover reads the cluster again: a reload is how ops say it changed.
    if (cluster_check_) cluster_check_->refresh();
    // So does every table's schema.
    schemas_->refresh_all();
    router_.access().reload(*next);
    // Certificates are read again whether or not their paths changed: the
    // files may hold new ones.
    std::string tls_error;
    const bool tls_switched = config_->server.tls.enabled() != loaded.config->server.tls.enabled();
    if (!tls_switched && !server_.reload_tls(loaded.config->server.tls, tls_error)) {
        loaded.warnings.push_back(tls_error + "; the certificates loaded before stay in use");
    }
    log::set_format(next->log.format);
    log::set_level(next->log.level);
    log::set_rate_limit(next->log.rate_limit_lines, next->log.rate_limit_interval);

    report.ok = true;
    router_.reload_counts().record(true, unix_ms_now());
    report.retuned = retuned.retuned;
    report.retired = retuned.retired;
    report.restart_needed = changes.restart;
    report.restart_needed.insert(report.restart_needed.end(), retuned.restart_needed.begin(),
                                 retuned.restart_needed.end());
    if (tls_switched) report.restart_needed.push_back("server.tls (HTTPS turned on or off)");
    report.warnings = std::move(loaded.warnings);
    LOG_INFO << "reload: " << changes.live.size() << " changes applied"
             << (changes.live.empty() ? "" : " (" + join(changes.live) + ")")
             << (retuned.retuned.empty() ? "" : "; tables retuned: " + join(retuned.retuned))
             << (retuned.retired.empty() ? "" : "; tables removed: " + join(retuned.retired));
    for (const auto& r : report.restart_needed)
        LOG_WARN << "reload: " << r << " changed; it applies at the next start";
    for (const auto& w : report.warnings)
        LOG_WARN << "config: " << w;
    return report;
}

void App::apply_shards(const std::vector<config::ShardConfig>& shards, const char* why) {
    // A reload and discover never both change them (one has a list, the
    // other reads it), but one at a time keeps the steps in order regardless.
    LockGuard lock(shards_mutex_);
    // Servers first, so that every shard a row may be placed on has its replicas.
    if (!replicas_.update(shards)) return;
    std::vector<std::uint32_t> weights;
    std::string described;
    for (const auto& s : shards) {
        weights.push_back(s.weight);
        described +=
            (described.empty() ? "" : "; ") + std::to_string(s.weight) + ": " + join(s.replicas);
    }
    manager_.registry().reshard(weights);
    replicas_.start_new_probes();
    LOG_INFO << "clickhouse.cluster (" << why << "): " << shards.size()
             << " shards from now on (weight: replicas): " << described
             << "; rows accepted before stay on the shards they were placed on";
}

http::DrainReport App::left_to_drain() const {
    http::DrainReport left;
    for (const auto& t : manager_.registry().tables()) {
        left.rows_in_memory += t->stats().buffered_rows.load() + t->stats().pending_rows.load();
    }
    for (const auto& [table, c] : storage_->spool().counts()) {
        left.spool_batches += c.batches;
        left.spool_rows += c.rows;
    }
    left.spool_bytes = storage_->spool().bytes();
    left.replaying = !manager_.registry().ready();
    left.drained = left.rows_in_memory == 0 && left.spool_batches == 0 && !left.replaying &&
                   queue_.size() == 0;
    return left;
}

http::DrainReport App::drain(std::chrono::milliseconds timeout) {
    using namespace std::chrono;
    router_.set_draining();
    LOG_INFO << "drain: taking no more events; sending what is buffered, logged and spooled to "
                "ClickHouse (up to "
             << config::format_duration(duration_cast<config::Duration>(timeout)) << ")";
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        // Requests that were in progress may still add rows: seal them too.
        manager_.seal_all(flush::FlushReason::admin);
        auto left = left_to_drain();
        if (left.drained) {
            LOG_INFO << "drain: everything accepted is in ClickHouse; stopping";
            ::kill(::getpid(), SIGTERM);  // run() stops as for any SIGTERM, with nothing left
            return left;
        }
        if (stopping_.load()) {
            LOG_INFO << "drain: chgate is stopping; the stop finishes what is left";
            return left;
        }
        if (steady_clock::now() >= deadline) {
            LOG_WARN << "drain: not done within the timeout: " << left.rows_in_memory
                     << " rows in memory, " << left.spool_batches
                     << " spooled batches; still taking no events";
            return left;
        }
        std::this_thread::sleep_for(100ms);
    }
}

int App::run() {
    start();
    const auto set = handled_signals();
    int sig = 0;
    for (;;) {
        sigwait(&set, &sig);
        if (sig != SIGHUP) break;
        LOG_INFO << "SIGHUP: reloading " << config_path_;
        reload();
    }
    LOG_INFO << signal_name(sig) << ": stopping (stop accepting, seal buffers, finish inserts)";
    // A second Ctrl-C means "now". Repeated SIGTERMs (some supervisors send
    // more than one) do not: they must not turn a clean stop into data loss.
    std::thread([set, this] {
        for (;;) {
            int again = 0;
            sigwait(&set, &again);
            if (again != SIGINT) {
                LOG_INFO << signal_name(again) << ": already stopping";
                continue;
            }
            LOG_ERROR << "SIGINT again: exiting at once; " << queue_.size()
                      << " sealed batches and any buffered rows are abandoned";
            _exit(1);
        }
    }).detach();
    return stop();
}

int App::stop() {
    using namespace std::chrono;
    const auto started = steady_clock::now();
    const auto deadline = started + config_->server.shutdown_timeout;
    stopping_.store(true);  // before router_.stop(), which waits for a drain in progress
    // 1. No new connections. Seal the buffers at once, so requests waiting for
    //    ack: committed see their batches go out.
    server_.stop_accepting();
    manager_.seal_all(flush::FlushReason::shutdown);
    // Admin work (dead-letter replays) ends, answering its callers.
    router_.stop();
    // 2. Answer the requests already in progress.
    server_.drain(std::min(deadline, started + 10s));
    stop_replay_.store(true);
    if (replay_.joinable()) replay_.join();
    // No more batches come back from the spool: they stay on disk for the next start.
    spool_replayer_.stop();
    dead_letter_mover_.stop();
    // 3. Seal what those last requests added: everything accepted is now queued.
    manager_.stop();
    manager_.seal_all(flush::FlushReason::shutdown);
    // 4. Finish the inserts, retries included, until the deadline.
    queue_.close();
    int status = 0;
    if (!flusher_.wait_until_drained(deadline)) {
        // Out of time: stop the flushers (an attempt in flight may still end
        // in a retry), then put what is left where the next start finds it.
        queue_.abort();
        flusher_.join();
        const auto left = flusher_.put_away(queue_.take_all());
        LOG_ERROR << "shutdown_timeout ("
                  << config::format_duration(config_->server.shutdown_timeout)
                  << ") reached with rows ClickHouse has not taken: " << left.on_disk
                  << " are in write-ahead logs or the spool, " << left.spooled
                  << " were spooled now, all for the next start; " << left.lost << " are lost"
                  << (left.lost > 0 ? " (no room under storage.max_disk)" : "");
        if (left.lost > 0) status = 1;
    }
    flusher_.join();
    // 5. The done records, and anything else still in memory, reach the disk.
    storage_->writer().stop();
    if (creator_) creator_->stop();
    evolver_->stop();
    schemas_->stop();
    if (cluster_check_) cluster_check_->stop();
    replicas_.stop();
    std::uint64_t inserted = 0, dropped = 0;
    for (const auto& t : manager_.registry().tables()) {
        inserted += t->stats().rows_inserted.load();
        dropped += t->stats().rows_dropped.load();
    }
    if (dropped > 0) status = 1;
    LOG_INFO << "stopped after "
             << duration_cast<milliseconds>(steady_clock::now() - started).count()
             << " ms: " << inserted << " rows inserted in this run, " << dropped << " dropped";
    return status;
}

}  // namespace chgate::app
