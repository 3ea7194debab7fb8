#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/Config.hpp"
#include "http/Router.hpp"
#include "http/Session.hpp"
#include "util/Mutex.hpp"

namespace chgate::http {

/// The HTTP listener: one io_context per io thread, so a connection's work stays
/// on one thread without locks, and one acceptor that deals connections out in
/// turn.
class Server {
  public:
    Server(const config::ServerConfig& cfg, Router& router);
    ~Server();

    /// Binds and listens; throws std::runtime_error with an operator-facing
    /// message. Connections wait in the kernel's backlog until start().
    void listen();
    /// Starts the io threads and accepting.
    void start();
    std::uint16_t port() const { return port_; }

    /// server.tls read again (a reload): new connections get the new
    /// certificates. False, with `error`, if they do not load (the old stay).
    bool reload_tls(const config::ServerTlsConfig& tls, std::string& error);

    /// Closes the listener: no new connections.
    void stop_accepting();
    /// Lets requests in progress finish, closes idle connections, and waits
    /// for the io threads until `deadline`.
    void drain(std::chrono::steady_clock::time_point deadline);

  private:
    struct Worker;
    /// Whether a new connection from `address` may be served, is answered
    /// 503 (RefusedConnection), or is closed at once.
    enum class Admit { serve, refuse, close };
    Admit admit_connection(const std::string& address);
    /// Its place in the counts, given back when the session ends.
    ConnectionSlot slot_for(std::string address);
    void start_session(Worker& worker, Socket socket);
    void do_accept();
    void start_accept();
    void retry_accept_later();
    void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);

    struct Worker {
        boost::asio::io_context ioc{1};
        // Made with the worker: it makes Asio set up the context's reactor
        // (an epoll, an eventfd, a timerfd) now, not at the first connection,
        // when file descriptors may have run out.
        boost::asio::steady_timer reactor_warmup{ioc};
        SessionSet sessions;    // touched only on this worker's thread
        IngestScratch scratch;  // used by one request at a time: this thread's
        ReplyInbox inbox{ioc};
        std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
            guard;
        std::thread thread;
    };

    const config::ServerConfig cfg_;
    Router& router_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
    // Both touched only on worker 0's thread (the acceptor's): after a failed
    // accept, the next waits accept_backoff_.
    std::unique_ptr<boost::asio::steady_timer> accept_timer_;
    std::chrono::milliseconds accept_backoff_{0};
    static constexpr std::chrono::milliseconds kMinAcceptBackoff{10};
    static constexpr std::chrono::milliseconds kMaxAcceptBackoff{1000};
    std::size_t next_worker_ = 0;  // touched only on worker 0's thread (the acceptor's)
    std::uint16_t port_ = 0;
    std::atomic<bool> draining_{false};

    Router::ConnectionCounts& counts_;  // the Router's, for /metrics
    // HTTPS: the context new connections get (each keeps the one it got).
    std::atomic<std::shared_ptr<boost::asio::ssl::context>> tls_;
    Mutex per_ip_mutex_;
    std::unordered_map<std::string, std::uint64_t> per_ip_ GUARDED_BY(per_ip_mutex_);
    // Past the limits, at most this many connections are answered 503 at once;
    // more are closed without a word.
    static constexpr std::uint64_t kMaxRefusing = 256;
};

}  // namespace chgate::http
