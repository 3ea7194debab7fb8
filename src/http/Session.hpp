#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <unordered_set>

#include "http/IngestHandler.hpp"
#include "http/ReplyInbox.hpp"
#include "http/Router.hpp"

namespace chgate::http {

class Session;
struct DirectReply;

/// The sessions of one io_context. Touched only from that context's single
/// thread, so it needs no lock.
using SessionSet = std::unordered_set<Session*>;

struct SessionLimits {
    std::uint64_t max_body_size;
    std::chrono::milliseconds idle_timeout;
};

/// One keep-alive client connection: read a request, answer it, repeat.
class Session : public std::enable_shared_from_this<Session> {
  public:
    /// Bound to its io_context's own executor type: no type-erased executor
    /// on every operation.
    using Executor = boost::asio::io_context::executor_type;
    using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;

    Session(Socket socket, Router& router, SessionSet& sessions, ReplyInbox& inbox,
            SessionLimits limits);
    ~Session();

    void run();
    /// Finish the request in progress, if any, then close. Called on this
    /// session's own io thread.
    void stop();

  private:
    void do_read_header();
    void on_read_header(boost::beast::error_code ec, std::size_t);
    void do_continue();
    void on_continue(boost::beast::error_code ec, std::size_t);
    void do_read_body();
    void on_read_body(boost::beast::error_code ec, std::size_t);
    /// Parses body bytes that came with the header, without another read.
    /// True once the request is complete; `ec` set on a parse error.
    bool parse_buffered(boost::beast::error_code& ec);
    void on_body_error(boost::beast::error_code ec);
    void handle_request();
    void respond(Response r);
    /// A handler's Defer: the answer comes later through the returned Reply.
    ReplyPtr defer(std::chrono::milliseconds timeout, Response on_timeout);
    /// A deferred answer to request number `request`; dropped unless that
    /// request is still waiting for it.
    void on_deferred(Response r, std::uint64_t request);
    /// A direct answer (see direct_) is out up to `written` bytes (or failed):
    /// write the rest, then go on with a request parked meanwhile, or close.
    void on_direct_written(const std::shared_ptr<DirectReply>& d, std::size_t written);
    void after_direct();
    /// True while a direct answer is owed: the socket must stay open. With
    /// `close_after`, the session closes once it is written.
    bool direct_owed(bool close_after);
    friend class SessionReply;
    friend class ReplyInbox;
    void on_write(bool close, boost::beast::error_code ec, std::size_t);
    void do_close();
    /// The connection must show progress by `deadline_`, or it is closed.
    void set_deadline(std::chrono::steady_clock::duration d);
    void arm_watchdog();

    Socket stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::string out_;  // the answer's bytes, reused
    Router& router_;
    SessionSet& sessions_;
    ReplyInbox& inbox_;
    const SessionLimits limits_;
    IngestScratch scratch_;
    Defer defer_;  // bound once to this session
    boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                      boost::asio::wait_traits<std::chrono::steady_clock>, Executor>
        reply_timer_;  // a deferred answer's timeout
    // One timer per connection for the idle and request timeouts: each I/O
    // only moves deadline_; the timer, when it fires, checks it and sleeps
    // again until the newest deadline.
    boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                      boost::asio::wait_traits<std::chrono::steady_clock>, Executor>
        watchdog_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    bool waiting_for_request_ = false;  // idle between requests: safe to close at once
    std::uint64_t request_number_ = 0;  // of the request being handled, counted from 1
    bool awaiting_deferred_ = false;    // its handler promised an answer through the inbox
    bool stopping_ = false;
    // A deferred answer with no timeout (a durable ack) is written to the
    // socket by the thread that produces it (the write-ahead log's writer),
    // not posted back here, while this session already reads the next
    // request; that request waits, parked, until the answer is out. Shared
    // with the SessionReply; its own mutex guards what both sides touch.
    std::shared_ptr<DirectReply> direct_;
    boost::beast::error_code parked_ec_;  // how the parked request's read ended
};

}  // namespace chgate::http
