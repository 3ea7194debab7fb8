#include "app/App.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "clickhouse/HttpClient.hpp"
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

App::App(config::LoadedConfig loaded)
    : config_(loaded.config),
      warnings_(std::move(loaded.warnings)),
      inserted_rate_(batch::Clock::now()),
      budget_(config_->batching.max_memory),
      monitor_(config_->clickhouse),
      manager_(config_, queue_, budget_, inserted_rate_),
      flusher_(queue_, config_->clickhouse, monitor_),
      router_(manager_, budget_, inserted_rate_, monitor_, config_->server.max_body_size),
      server_(config_->server, router_) {}

void App::block_signals() {
    const auto set = handled_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    // Writes to a socket the peer closed must fail with EPIPE, not kill us.
    signal(SIGPIPE, SIG_IGN);
}

void App::start() {
    log::set_level(config_->log.level);
    LOG_INFO << "chgate " << kVersion << " starting: " << config_->batching.tables.size()
             << " configured tables, batching " << (config_->batching.enabled ? "on" : "OFF")
             << ", ClickHouse " << config_->clickhouse.url;
    for (const auto& w : warnings_)
        LOG_WARN << "config: " << w;
    // Bind first: a port in use fails before any thread exists.
    server_.listen();
    clickhouse::HttpClient::global_init();
    // ClickHouse first (so the first INSERT knows the server), then the senders,
    // then the timer that feeds them, and only then the door for clients.
    try {
        monitor_.start();
        flusher_.start();
        manager_.start();
        server_.start();
    } catch (...) {
        // Stop what did start, in order, so that no thread outlives App; then report.
        manager_.stop();
        queue_.close();
        flusher_.join();
        monitor_.stop();
        throw;
    }
}

int App::run() {
    start();
    const auto set = handled_signals();
    int sig = 0;
    for (;;) {
        sigwait(&set, &sig);
        if (sig != SIGHUP) break;
        LOG_WARN << "SIGHUP: configuration reload is not supported yet; restart chgate to apply "
                    "changes";
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
    // 1. Stop accepting; answer the requests already in progress.
    server_.drain(std::min(deadline, started + 10s));
    // 2. Seal every buffer, so everything accepted is in the flush queue.
    manager_.stop();
    manager_.seal_all(batch::FlushReason::shutdown);
    // 3. Finish the inserts, retries included, until the deadline.
    queue_.close();
    int status = 0;
    if (!flusher_.wait_until_drained(deadline)) {
        queue_.abort();
        std::uint64_t rows = 0;
        const auto left = queue_.take_all();
        for (const auto& b : left)
            rows += b.row_count;
        LOG_ERROR << "shutdown_timeout ("
                  << config::format_duration(config_->server.shutdown_timeout)
                  << ") reached: abandoning " << left.size() << " batches with " << rows
                  << " rows that ClickHouse has not accepted";
        status = 1;
    }
    flusher_.join();
    monitor_.stop();
    std::uint64_t inserted = 0, dropped = 0;
    for (const auto& t : manager_.tables()) {
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
