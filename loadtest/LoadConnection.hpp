#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "EventGenerator.hpp"
#include "LoadOptions.hpp"

namespace chgate::load {

using Clock = std::chrono::steady_clock;

/// What one client thread saw. Only that thread writes it.
struct LoadStats {
    std::uint64_t requests = 0;           ///< answered
    std::uint64_t accepted_requests = 0;  ///< 2xx
    std::uint64_t accepted_events = 0;
    std::uint64_t rejected = 0;          ///< 429 and 503: chgate said "full"
    std::uint64_t failed = 0;            ///< other statuses
    std::uint64_t transport_errors = 0;  ///< a request whose answer never came
    std::uint64_t unanswered_events =
        0;  ///< events in those requests: they may or may not have landed
    std::vector<std::uint32_t> latency_us;
    void merge(const LoadStats& o);
};

/// One keep-alive connection sending requests back to back, or on a schedule
/// when a rate is set, until the end time.
class LoadConnection : public std::enable_shared_from_this<LoadConnection> {
  public:
    LoadConnection(boost::asio::io_context& ioc, boost::asio::ip::tcp::endpoint endpoint,
                   const LoadOptions& options, std::string target, int index, std::string run_id,
                   LoadStats& stats, Clock::time_point end, Clock::duration interval);
    void start();

  private:
    void do_connect();
    void on_connect(boost::beast::error_code ec);
    void do_send();
    void on_write(boost::beast::error_code ec, std::size_t);
    void on_read(boost::beast::error_code ec, std::size_t);
    void schedule_next();
    void lost_request();
    void fail_and_reconnect();

    boost::beast::tcp_stream stream_;
    boost::asio::steady_timer timer_;
    boost::asio::ip::tcp::endpoint endpoint_;
    const LoadOptions& options_;
    const std::string target_;
    const int index_;
    EventGenerator events_;
    LoadStats& stats_;
    const Clock::time_point end_;
    const Clock::duration interval_;
    Clock::time_point next_send_;
    Clock::time_point sent_at_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::request<boost::beast::http::string_body> request_;
    boost::beast::http::response<boost::beast::http::string_body> response_;
};

}  // namespace chgate::load
