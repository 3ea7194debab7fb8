#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <memory>

#include "http/Socket.hpp"

namespace chgate::http {

/// A connection past server.max_connections or max_connections_per_ip: it is
/// answered "503, Retry-After: 1" at once, without reading its request, and
/// closed. The answer tells a client to back off, which a bare close would
/// not; it costs one small write and no parsing. What the client sent is read
/// and dropped for up to a second after the answer, so that closing does not
/// reset the connection before the client has read it.
class RefusedConnection : public std::enable_shared_from_this<RefusedConnection> {
  public:
    /// `count` is decremented when the connection is gone.
    RefusedConnection(Socket socket, std::atomic<std::uint64_t>& count, const char* reason);
    ~RefusedConnection();

    void run();

  private:
    void on_write(boost::beast::error_code ec, std::size_t);
    void do_drain();
    void on_drain(boost::beast::error_code ec, std::size_t);

    Socket socket_;
    std::atomic<std::uint64_t>& count_;
    std::string answer_;
    Timer timer_;
    std::array<char, 4096> sink_;
};

}  // namespace chgate::http
