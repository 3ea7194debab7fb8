#include "http/RefusedConnection.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "http/ApiError.hpp"
#include "http/ResponseWriter.hpp"

namespace chgate::http {

namespace net = boost::asio;

RefusedConnection::RefusedConnection(Socket socket, std::atomic<std::uint64_t>& count,
                                     const char* reason)
    : socket_(std::move(socket)), count_(count), timer_(socket_.get_executor()) {
    write_response(
        error_response(ApiError::gateway_full, std::string(reason) + "; retry later or elsewhere"),
        {11, false, false}, answer_);
}

RefusedConnection::~RefusedConnection() {
    count_.fetch_sub(1, std::memory_order_relaxed);
}

void RefusedConnection::run() {
    // The whole exchange takes at most a second.
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([self = shared_from_this()](boost::beast::error_code ec) {
        if (ec) return;
        boost::beast::error_code ignored;
        self->socket_.close(ignored);
    });
    net::async_write(
        socket_, net::buffer(answer_),
        boost::beast::bind_front_handler(&RefusedConnection::on_write, shared_from_this()));
}

void RefusedConnection::on_write(boost::beast::error_code ec, std::size_t) {
    boost::beast::error_code ignored;
    if (ec) {
        timer_.cancel();
        socket_.close(ignored);
        return;
    }
    // FIN after the answer; then read until the client closes its side.
    socket_.shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    do_drain();
}

void RefusedConnection::do_drain() {
    socket_.async_read_some(
        net::buffer(sink_),
        boost::beast::bind_front_handler(&RefusedConnection::on_drain, shared_from_this()));
}

void RefusedConnection::on_drain(boost::beast::error_code ec, std::size_t) {
    if (!ec) return do_drain();
    timer_.cancel();
    boost::beast::error_code ignored;
    socket_.close(ignored);
}

}  // namespace chgate::http
