#include "http/Session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/ApiError.hpp"
#include "util/Log.hpp"

namespace chgate::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {
// A client has this long to send the rest of a request it has started.
constexpr std::chrono::seconds kRequestTimeout{60};
}  // namespace

// The Reply a session hands out: the first answer is posted to the session's
// own thread; later ones are dropped.
class SessionReply : public Reply {
  public:
    explicit SessionReply(std::shared_ptr<Session> session)
        : session_(std::move(session)),
          inbox_(session_->inbox_),
          work_(inbox_.context().get_executor()) {}
    void send(Response r) override {
        if (sent_.exchange(true)) return;
        inbox_.deliver(std::move(session_), std::move(r));
        work_.reset();  // the inbox's handler is work of its own
    }

  private:
    std::shared_ptr<Session> session_;  // kept alive until answered
    ReplyInbox& inbox_;
    // While an answer is owed, the io thread must not run out of work and
    // exit during a drain: the answer would never be written.
    net::executor_work_guard<net::io_context::executor_type> work_;
    std::atomic<bool> sent_{false};
};

Session::Session(net::ip::tcp::socket socket, Router& router, SessionSet& sessions,
                 ReplyInbox& inbox, SessionLimits limits)
    : stream_(std::move(socket)),
      router_(router),
      sessions_(sessions),
      inbox_(inbox),
      limits_(limits),
      reply_timer_(stream_.get_executor()) {
    sessions_.insert(this);
    defer_ = [this](std::chrono::milliseconds timeout, Response on_timeout) {
        return defer(timeout, std::move(on_timeout));
    };
}

Session::~Session() {
    sessions_.erase(this);
}

void Session::run() {
    beast::error_code ec;
    stream_.socket().set_option(net::ip::tcp::no_delay(true), ec);
    do_read_header();
}

void Session::stop() {
    stopping_ = true;
    // Idle connections close now; a request in progress is answered first.
    if (waiting_for_request_) {
        beast::error_code ec;
        stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
        stream_.socket().close(ec);
    }
}

void Session::do_read_header() {
    if (stopping_) return do_close();
    // A fresh parser per request; limits are set where the I/O happens.
    parser_.emplace();
    parser_->body_limit(limits_.max_body_size);
    parser_->header_limit(64 * 1024);
    waiting_for_request_ = true;
    stream_.expires_after(limits_.idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::on_read_header, shared_from_this()));
}

void Session::on_read_header(beast::error_code ec, std::size_t) {
    waiting_for_request_ = false;
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted) return do_close();
    if (ec == bhttp::error::body_limit) {
        return respond(error_response(ApiError::body_too_large,
                                      "the body is larger than server.max_body_size (" +
                                          std::to_string(limits_.max_body_size) + " bytes)"));
    }
    if (ec == beast::error::timeout || ec == net::error::connection_reset ||
        ec == net::error::eof || ec == net::error::bad_descriptor) {
        return do_close();
    }
    if (ec)
        return respond(
            error_response(ApiError::bad_request, "malformed HTTP request: " + ec.message()));
    // curl and others wait for "100 Continue" before sending bodies over 1 KiB.
    const auto& req = parser_->get();
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) return do_continue();
    do_read_body();
}

void Session::do_continue() {
    continue_ = {bhttp::status::continue_, parser_->get().version()};
    bhttp::async_write(stream_, continue_,
                       beast::bind_front_handler(&Session::on_continue, shared_from_this()));
}

void Session::on_continue(beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    do_read_body();
}

void Session::do_read_body() {
    stream_.expires_after(kRequestTimeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_read_body, shared_from_this()));
}

void Session::on_read_body(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::body_limit) {
        return respond(error_response(ApiError::body_too_large,
                                      "the body is larger than server.max_body_size (" +
                                          std::to_string(limits_.max_body_size) + " bytes)"));
    }
    if (ec) return do_close();  // the client went away or stalled; nothing was accepted
    auto answer = router_.handle(parser_->get(), scratch_, defer_);
    scratch_.trim();
    // No answer yet: a deferred one will come through on_deferred().
    if (answer) respond(std::move(*answer));
}

ReplyPtr Session::defer(std::chrono::milliseconds timeout, Response on_timeout) {
    auto reply = std::make_shared<SessionReply>(shared_from_this());
    if (timeout.count() > 0) {
        reply_timer_.expires_after(timeout);
        reply_timer_.async_wait([reply, r = std::move(on_timeout)](beast::error_code ec) mutable {
            if (!ec) reply->send(std::move(r));
        });
    }
    return reply;
}

void Session::on_deferred(Response r) {
    reply_timer_.cancel();
    respond(std::move(r));
}

void Session::respond(Response r) {
    const auto& req = parser_->get();
    // After an error mid-read the rest of the body is unread: close afterwards.
    const bool complete = parser_->is_done();
    const bool keep_alive = complete && req.keep_alive() && !stopping_;
    response_ = {};
    response_.result(r.status);
    response_.version(req.version() == 10 ? 10 : 11);
    response_.set(bhttp::field::server, "chgate");
    response_.set(bhttp::field::content_type, r.content_type);
    if (r.retry_after_seconds > 0) {
        response_.set(bhttp::field::retry_after, std::to_string(r.retry_after_seconds));
    }
    if (r.allow != nullptr) response_.set(bhttp::field::allow, r.allow);
    if (r.idempotent_replayed) response_.set("Idempotent-Replayed", "true");
    if (r.www_authenticate != nullptr) {
        response_.set(bhttp::field::www_authenticate, r.www_authenticate);
    }
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    if (req.method() == bhttp::verb::head) response_.body().clear();
    stream_.expires_after(kRequestTimeout);
    bhttp::async_write(
        stream_, response_,
        beast::bind_front_handler(&Session::on_write, shared_from_this(), !keep_alive));
}

void Session::on_write(bool close, beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    if (close) return do_close();
    do_read_header();
}

void Session::do_close() {
    beast::error_code ec;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
}

}  // namespace chgate::http
