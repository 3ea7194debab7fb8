#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "config/Config.hpp"
#include "http/Router.hpp"
#include "http/Session.hpp"

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

    /// Closes the listener: no new connections.
    void stop_accepting();
    /// Lets requests in progress finish, closes idle connections, and waits
    /// for the io threads until `deadline`.
    void drain(std::chrono::steady_clock::time_point deadline);

  private:
    void do_accept();
    void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);

    struct Worker {
        boost::asio::io_context ioc{1};
        SessionSet sessions;  // touched only on this worker's thread
        ReplyInbox inbox{ioc};
        std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
            guard;
        std::thread thread;
    };

    const config::ServerConfig cfg_;
    Router& router_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
    std::size_t next_worker_ = 0;  // touched only on worker 0's thread (the acceptor's)
    std::uint16_t port_ = 0;
    std::atomic<bool> draining_{false};
};

}  // namespace chgate::http
