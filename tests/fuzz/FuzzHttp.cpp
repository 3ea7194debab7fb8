// The HTTP request path, bytes in, answer out, through the real Session and
// Router (ClickHouse absent): whatever a client sends, the process lives, and
// every answer is well-formed HTTP whose JSON bodies parse.
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "batch/BatchManager.hpp"
#include "clickhouse/ReplicaSet.hpp"
#include "config/ConfigLoader.hpp"
#include "core/RateWindow.hpp"
#include "flush/FlushQueue.hpp"
#include "http/ReplyInbox.hpp"
#include "http/Router.hpp"
#include "http/Session.hpp"
#include "util/Log.hpp"

namespace {

using namespace chgate;
using namespace std::chrono_literals;

// One gateway for every input, as a running chgate would be, minus ClickHouse
// and storage: tables that take rows, a token, small quotas.
constexpr const char* kConfig = R"(
server: {listen: "127.0.0.1:0", max_body_size: 64KiB, max_inflight_bytes: 1MiB, commit_timeout: 100ms}
clickhouse: {url: "http://127.0.0.1:1"}
auth:
  tokens:
    - {name: app, token: "fuzz-token-0123456789", tables: ["t*", "db.*"], max_events_per_second: 100000}
batching:
  max_memory: 2MiB
  unknown_tables: defaults
  max_tables: 8
  max_buffers_per_table: 4
  defaults: {strategy: size, max_batch_size: 100, max_memory: 256KiB}
  tables:
    t: {strategy: size, max_batch_size: 50, max_memory: 256KiB, ack: buffered}
    tc: {strategy: size, max_batch_size: 50, max_memory: 256KiB, ack: committed}
)";

struct World {
    config::ConfigPtr config =
        config::load_config_text(kConfig, "fuzz.yaml", [](const std::string&) {
            return std::optional<std::string>();
        }).config;
    batch::MemoryBudget budget{config->batching.max_memory};
    core::RateWindow rate{Clock::now()};
    flush::FlushQueue queue;
    clickhouse::Topology replicas{config->clickhouse};
    batch::BatchManager manager{config, queue, budget, rate, nullptr};
    ProgressBoard progress;
    http::Router router{manager, budget, rate, replicas, nullptr, progress};
    boost::asio::io_context ioc{1};
    http::SessionSet sessions;
    http::ReplyInbox inbox{ioc};
    http::IngestScratch scratch;

    World() {
        log::set_level(log::LogLevel::error);
        manager.registry().set_ready();
    }
};

// Checks the answers in `out`: status lines, headers, Content-Length bodies;
// a JSON body must parse.
void check_answers(std::string_view out) {
    while (!out.empty()) {
        if (!out.starts_with("HTTP/1.")) std::abort();
        const auto head_end = out.find("\r\n\r\n");
        if (head_end == std::string_view::npos) std::abort();
        const auto head = out.substr(0, head_end);
        std::size_t length = 0;
        bool json = false;
        for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos;) {
            const auto next = head.find("\r\n", pos + 2);
            const auto line = head.substr(
                pos + 2, next == std::string_view::npos ? std::string_view::npos : next - pos - 2);
            if (line.starts_with("Content-Length: "))
                length = std::stoul(std::string(line.substr(16)));
            if (line == "Content-Type: application/json") json = true;
            pos = next;
        }
        const bool interim = head.starts_with("HTTP/1.1 100 ");
        if (!interim && out.size() < head_end + 4 + length) std::abort();
        const auto body = out.substr(head_end + 4, interim ? 0 : length);
        if (json && !body.empty()) {
            try {
                (void)nlohmann::json::parse(body);
            } catch (const std::exception&) {
                std::abort();  // an answer that is not JSON, or not UTF-8
            }
        }
        out.remove_prefix(head_end + 4 + body.size());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World w;
    if (size > 64 * 1024) return 0;  // within the socket's buffer: written at once
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
    http::Socket socket(w.ioc.get_executor());
    socket.assign(boost::asio::ip::tcp::v4(), fds[0]);
    const http::SessionLimits limits{64 * 1024, 200ms, 200ms, 200ms, 16 * 1024, 200ms};
    std::make_shared<http::Session>(std::move(socket), nullptr, w.router, w.sessions, w.inbox,
                                    w.scratch, limits, nullptr)
        ->run();
    // The client sends everything, then half-closes; the session answers and ends.
    std::size_t sent = 0;
    while (sent < size) {
        const auto n = ::send(fds[1], data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fds[1], SHUT_WR);
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!w.sessions.empty() && std::chrono::steady_clock::now() < deadline) {
        w.ioc.restart();
        w.ioc.run_for(20ms);
        char buf[65536];
        ssize_t n;
        while ((n = ::recv(fds[1], buf, sizeof buf, MSG_DONTWAIT)) > 0)
            out.append(buf, static_cast<std::size_t>(n));
    }
    if (!w.sessions.empty()) std::abort();  // a session that never ends
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(fds[1], buf, sizeof buf, MSG_DONTWAIT)) > 0)
        out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[1]);
    check_answers(out);
    // Batches nobody sends (ClickHouse is absent): given back, so that the
    // quotas stay free for the next inputs.
    for (auto& b : w.queue.take_all()) {
        b.owner->on_released(b);
    }
    return 0;
}
