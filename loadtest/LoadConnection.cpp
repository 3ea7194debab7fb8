#include "LoadConnection.hpp"

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace chgate::load {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

void LoadStats::merge(const LoadStats& o) {
    requests += o.requests;
    accepted_requests += o.accepted_requests;
    accepted_events += o.accepted_events;
    rejected += o.rejected;
    failed += o.failed;
    transport_errors += o.transport_errors;
    unanswered_events += o.unanswered_events;
    latency_us.insert(latency_us.end(), o.latency_us.begin(), o.latency_us.end());
}

LoadConnection::LoadConnection(net::io_context& ioc, net::ip::tcp::endpoint endpoint,
                               const LoadOptions& options, std::string target, int index,
                               std::string run_id, LoadStats& stats, Clock::time_point end,
                               Clock::duration interval)
    : stream_(ioc),
      timer_(ioc),
      endpoint_(endpoint),
      options_(options),
      target_(std::move(target)),
      index_(index),
      events_(std::move(run_id), index),
      stats_(stats),
      end_(end),
      interval_(interval),
      next_send_(Clock::now()) {
    request_.method(bhttp::verb::post);
    request_.target(target_);
    request_.version(11);
    request_.set(bhttp::field::host, options_.host);
    request_.set(bhttp::field::content_type,
                 options_.ndjson ? "application/x-ndjson" : "application/json");
    request_.keep_alive(true);
}

void LoadConnection::start() {
    // Spread the first sends of scheduled connections over one interval.
    if (interval_.count() > 0) {
        next_send_ += interval_ * (index_ % options_.connections) / options_.connections;
    }
    do_connect();
}

void LoadConnection::do_connect() {
    stream_.expires_after(std::chrono::seconds(10));
    stream_.async_connect(
        endpoint_, beast::bind_front_handler(&LoadConnection::on_connect, shared_from_this()));
}

void LoadConnection::on_connect(beast::error_code ec) {
    if (ec) {
        ++stats_.transport_errors;
        return fail_and_reconnect();
    }
    stream_.socket().set_option(net::ip::tcp::no_delay(true), ec);
    schedule_next();
}

void LoadConnection::schedule_next() {
    const auto now = Clock::now();
    if (now >= end_) return;  // done: let the connection close
    if (interval_.count() == 0 || next_send_ <= now) return do_send();
    timer_.expires_at(next_send_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->do_send();
    });
}

void LoadConnection::do_send() {
    // Events for the ClickHouse-compatible endpoint go as NDJSON after the query.
    events_.fill(request_.body(), options_.events_per_request,
                 options_.ndjson || options_.endpoint == "clickhouse");
    request_.prepare_payload();
    sent_at_ = Clock::now();
    if (interval_.count() > 0) next_send_ += interval_;
    stream_.expires_after(std::chrono::seconds(30));
    bhttp::async_write(stream_, request_,
                       beast::bind_front_handler(&LoadConnection::on_write, shared_from_this()));
}

void LoadConnection::on_write(beast::error_code ec, std::size_t) {
    if (ec) return lost_request();
    response_ = {};
    bhttp::async_read(stream_, buffer_, response_,
                      beast::bind_front_handler(&LoadConnection::on_read, shared_from_this()));
}

void LoadConnection::on_read(beast::error_code ec, std::size_t) {
    if (ec) return lost_request();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at_);
    stats_.latency_us.push_back(static_cast<std::uint32_t>(us.count()));
    ++stats_.requests;
    const auto status = response_.result_int();
    if (status >= 200 && status < 300) {
        ++stats_.accepted_requests;
        stats_.accepted_events += static_cast<std::uint64_t>(options_.events_per_request);
    } else if (status == 429 || status == 503) {
        ++stats_.rejected;
    } else {
        ++stats_.failed;
    }
    if (!response_.keep_alive()) {
        beast::error_code ignored;
        stream_.socket().close(ignored);
        return do_connect();
    }
    schedule_next();
}

// The request went out but no answer came: its events may or may not have landed.
void LoadConnection::lost_request() {
    ++stats_.transport_errors;
    stats_.unanswered_events += static_cast<std::uint64_t>(options_.events_per_request);
    fail_and_reconnect();
}

void LoadConnection::fail_and_reconnect() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    if (Clock::now() >= end_) return;
    timer_.expires_after(std::chrono::milliseconds(100));
    timer_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e) self->do_connect();
    });
}

}  // namespace chgate::load
