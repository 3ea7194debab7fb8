#include "http/Server.hpp"
#include "util/ThreadName.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <future>

#include "config/ListenAddress.hpp"
#include "http/RefusedConnection.hpp"
#include "http/TlsContext.hpp"
#include "util/Log.hpp"

namespace chgate::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Server::Server(const config::ServerConfig& cfg, Router& router)
    : cfg_(cfg), router_(router), counts_(router.connection_counts()) {
    if (cfg_.tls.enabled()) tls_.store(make_server_tls_context(cfg_.tls));
    int threads = cfg_.threads;
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < threads; ++i)
        workers_.push_back(std::make_unique<Worker>());
}

Server::~Server() {
    for (auto& w : workers_) {
        w->guard.reset();
        w->ioc.stop();
        if (w->thread.joinable()) w->thread.join();
    }
}

void Server::listen() {
    std::string error;
    const auto address = config::parse_listen_address(cfg_.listen, error);
    if (!address) throw std::runtime_error("server.listen: " + error);
    const tcp::endpoint endpoint(net::ip::make_address(address->host), address->port);

    acceptor_ = std::make_unique<tcp::acceptor>(workers_[0]->ioc);
    accept_timer_ = std::make_unique<net::steady_timer>(workers_[0]->ioc);
    boost::beast::error_code ec;
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        throw std::runtime_error("cannot listen on " + cfg_.listen + ": " + ec.message() +
                                 (ec == net::error::address_in_use
                                      ? " (is another chgate or service on that port?)"
                                      : ""));
    }
    port_ = acceptor_->local_endpoint().port();
}

void Server::start() {
    for (auto& w : workers_) {
        w->guard.emplace(w->ioc.get_executor());
        w->thread = std::thread([&ioc = w->ioc, i = &w - workers_.data()] {
            set_thread_name("chgate-io-" + std::to_string(i));
            // No exception may end an io thread (and with it the process): a
            // handler that throws is logged, and the thread runs on.
            for (;;) {
                try {
                    ioc.run();
                    return;
                } catch (const std::exception& e) {
                    LOG_ERROR << "io thread " << i << ": a handler failed: " << e.what();
                }
            }
        });
    }
    net::post(workers_[0]->ioc, [this] { do_accept(); });
    LOG_INFO << "listening on " << acceptor_->local_endpoint().address().to_string() << ":" << port_
             << " with " << workers_.size() << " io threads"
             << (cfg_.tls.enabled()
                     ? std::string(", HTTPS") +
                           (cfg_.tls.client_ca_file.empty() ? "" : " with client certificates")
                     : "");
}

void Server::do_accept() {
    try {
        start_accept();
    } catch (const std::exception& e) {
        // Starting an accept failed (out of memory, say): try again later,
        // rather than never accept again.
        LOG_ERROR << "cannot accept connections: " << e.what();
        retry_accept_later();
    }
}

void Server::retry_accept_later() {
    accept_backoff_ = std::clamp(accept_backoff_ * 2, kMinAcceptBackoff, kMaxAcceptBackoff);
    accept_timer_->expires_after(accept_backoff_);
    accept_timer_->async_wait([this](boost::beast::error_code wait_ec) {
        if (!wait_ec && acceptor_->is_open()) do_accept();
    });
}

void Server::start_accept() {
    // Each connection lives on the next worker's io_context, round robin.
    auto& worker = *workers_[next_worker_];
    next_worker_ = (next_worker_ + 1) % workers_.size();
    acceptor_->async_accept(
        worker.ioc, [this, &worker](boost::beast::error_code ec, Socket socket) {
            // Closed by drain().
            if (ec == net::error::operation_aborted || !acceptor_->is_open()) return;
            if (ec) {
                // Out of file descriptors (EMFILE, ENFILE) or memory: the
                // connection waits in the backlog, and accepting again at once
                // would spin. Wait, longer while it keeps failing.
                LOG_WARN
                    << "accept failed: " << ec.message() << "; accepting again in "
                    << std::clamp(accept_backoff_ * 2, kMinAcceptBackoff, kMaxAcceptBackoff).count()
                    << " ms";
                return retry_accept_later();
            }
            accept_backoff_ = std::chrono::milliseconds{0};
            try {
                start_session(worker, std::move(socket));
            } catch (const std::exception& e) {
                LOG_ERROR << "cannot start a connection: " << e.what();  // it is closed
            }
            do_accept();
        });
}

Server::Admit Server::admit_connection(const std::string& address) {
    const auto over = [this] {
        counts_.refused.fetch_add(1, std::memory_order_relaxed);
        if (counts_.refusing.load(std::memory_order_relaxed) >= kMaxRefusing) return Admit::close;
        counts_.refusing.fetch_add(1, std::memory_order_relaxed);
        return Admit::refuse;
    };
    if (counts_.open.fetch_add(1, std::memory_order_relaxed) >= cfg_.max_connections) {
        counts_.open.fetch_sub(1, std::memory_order_relaxed);
        LOG_WARN << "server.max_connections (" << cfg_.max_connections
                 << ") reached; refusing new connections";
        return over();
    }
    LockGuard lock(per_ip_mutex_);
    auto& n = per_ip_[address];
    if (n >= cfg_.max_connections_per_ip) {
        counts_.open.fetch_sub(1, std::memory_order_relaxed);
        LOG_WARN << "server.max_connections_per_ip (" << cfg_.max_connections_per_ip
                 << ") reached for " << address << "; refusing its new connections";
        return over();
    }
    ++n;
    return Admit::serve;
}

ConnectionSlot Server::slot_for(std::string address) {
    return ConnectionSlot(nullptr, [this, address = std::move(address)](void*) {
        counts_.open.fetch_sub(1, std::memory_order_relaxed);
        LockGuard lock(per_ip_mutex_);
        if (auto it = per_ip_.find(address); it != per_ip_.end() && --it->second == 0) {
            per_ip_.erase(it);
        }
    });
}

void Server::start_session(Worker& worker, Socket socket) {
    boost::beast::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (ec) return;  // gone already
    // server.allow_from: others are closed at once, as a firewall would.
    if (!router_.access().connection_allowed(peer.address())) {
        counts_.denied.fetch_add(1, std::memory_order_relaxed);
        LOG_WARN << "connection from " << peer.address().to_string()
                 << " closed: not in server.allow_from";
        return;
    }
    const auto address = peer.address().to_string();
    const auto admit = admit_connection(address);
    if (admit == Admit::close) return;  // the socket closes as it goes
    auto slot = admit == Admit::serve ? slot_for(address) : nullptr;
    // The connection lives on its own worker's thread.
    net::post(worker.ioc, [this, &worker, admit, slot = std::move(slot),
                           s = std::move(socket)]() mutable {
        // Accepted just before drain() closed the acceptor: nothing was read,
        // so closing loses nothing, and the client retries elsewhere.
        if (draining_.load()) {
            if (admit == Admit::refuse) counts_.refusing.fetch_sub(1, std::memory_order_relaxed);
            return;
        }
        if (admit == Admit::refuse) {
            std::make_shared<RefusedConnection>(std::move(s), counts_.refusing,
                                                "chgate has too many connections")
                ->run();
            return;
        }
        const SessionLimits limits{cfg_.max_body_size, cfg_.idle_timeout,    cfg_.header_timeout,
                                   cfg_.body_timeout,  cfg_.max_header_size, cfg_.commit_timeout};
        if (auto tls = tls_.load()) {
            std::make_shared<TlsSession>(std::move(s), std::move(tls), router_, worker.sessions,
                                         worker.inbox, worker.scratch, limits, std::move(slot))
                ->run();
        } else {
            std::make_shared<Session>(std::move(s), nullptr, router_, worker.sessions, worker.inbox,
                                      worker.scratch, limits, std::move(slot))
                ->run();
        }
    });
}

bool Server::reload_tls(const config::ServerTlsConfig& tls, std::string& error) {
    if (!cfg_.tls.enabled()) return true;  // plain HTTP: HTTPS comes with a restart
    try {
        tls_.store(make_server_tls_context(tls));
        LOG_INFO << "server.tls: certificates loaded again; new connections get them";
        return true;
    } catch (const std::exception& e) {
        error = e.what();
        LOG_ERROR << e.what() << "; the certificates loaded before stay in use";
        return false;
    }
}

void Server::stop_accepting() {
    if (!acceptor_ || draining_.exchange(true)) return;
    // Close the acceptor on its own thread, then ask every session to stop.
    std::promise<void> closed;
    net::post(workers_[0]->ioc, [this, &closed] {
        boost::beast::error_code ec;
        acceptor_->close(ec);
        accept_timer_->cancel();
        closed.set_value();
    });
    closed.get_future().wait();
}

void Server::drain(std::chrono::steady_clock::time_point deadline) {
    if (!acceptor_) return;
    stop_accepting();
    for (auto& w : workers_) {
        net::post(w->ioc, [&w = *w] {
            // Copy: a stopping session may remove itself from the set.
            const std::vector<SessionBase*> sessions(w.sessions.begin(), w.sessions.end());
            for (auto* s : sessions)
                s->stop();
        });
        // Without the guard, run() returns once the last session is gone.
        w->guard.reset();
    }
    for (auto& w : workers_) {
        while (w->thread.joinable() && !w->ioc.stopped()) {
            if (std::chrono::steady_clock::now() >= deadline) {
                LOG_WARN << "connections still open at the shutdown deadline; closing them";
                w->ioc.stop();
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (w->thread.joinable()) w->thread.join();
    }
    acceptor_.reset();
}

}  // namespace chgate::http
