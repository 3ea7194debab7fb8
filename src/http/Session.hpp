#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <type_traits>
#include <unordered_set>

#include "http/InflightBytes.hpp"
#include "http/IngestHandler.hpp"
#include "http/ReplyInbox.hpp"
#include "http/Router.hpp"
#include "http/Socket.hpp"

namespace chgate::http {

class DirectAnswer;
class SessionReply;

/// What the inbox, a deferred answer and the server see of a session, plain
/// or TLS. Touched on the session's own io thread only, but for what a
/// SessionReply reads when it is made (on that thread too).
class SessionBase {
  public:
    virtual ~SessionBase() = default;
    /// Finish the request in progress, if any, then close.
    virtual void stop() = 0;
    /// A deferred answer to request number `request`; dropped unless that
    /// request is still waiting for it.
    virtual void on_deferred(Response r, std::uint64_t request) = 0;
    /// A direct answer (see DirectAnswer) is out up to `written` bytes (or
    /// failed): write the rest, then go on with a request parked meanwhile,
    /// or close.
    virtual void on_direct_written(const std::shared_ptr<DirectAnswer>& d, std::size_t written) = 0;

  protected:
    explicit SessionBase(ReplyInbox& inbox) : inbox_(inbox) {}
    friend class SessionReply;
    ReplyInbox& inbox_;
    std::uint64_t request_number_ = 0;  // of the request being handled, counted from 1
};

/// The sessions of one io_context. Touched only from that context's single
/// thread, so it needs no lock.
using SessionSet = std::unordered_set<SessionBase*>;

/// The streams a session runs over.
using PlainStream = Socket;
using TlsStream = boost::beast::ssl_stream<Socket>;

struct SessionLimits {
    std::uint64_t max_body_size;
    std::chrono::milliseconds idle_timeout;    ///< for a request's first byte
    std::chrono::milliseconds header_timeout;  ///< from the first byte to the end of the headers
    std::chrono::milliseconds body_timeout;    ///< for a body, and for an answer to be taken
    std::uint64_t max_header_size;
    /// How long an answer the session owes may take (a durable ack waits for
    /// the log): then the client is told it may or may not be stored.
    std::chrono::milliseconds answer_timeout;
};

/// Something that lives as long as the connection (its place in the
/// connection counts); released when the session ends.
using ConnectionSlot = std::shared_ptr<void>;

/// One keep-alive client connection: read a request, answer it, repeat.
/// Over plain TCP, or over TLS (after a handshake; its answers are always
/// written by its own thread, never straight to the socket).
template <class Stream>
class BasicSession : public SessionBase, public std::enable_shared_from_this<BasicSession<Stream>> {
  public:
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

    /// `scratch` is the io thread's, shared by its sessions: a request uses it
    /// only while its handler runs. `tls` is the server's context (TLS only).
    BasicSession(Socket socket, std::shared_ptr<boost::asio::ssl::context> tls, Router& router,
                 SessionSet& sessions, ReplyInbox& inbox, IngestScratch& scratch,
                 SessionLimits limits, ConnectionSlot slot);
    ~BasicSession() override;

    void run();
    void stop() override;
    void on_deferred(Response r, std::uint64_t request) override;
    void on_direct_written(const std::shared_ptr<DirectAnswer>& d, std::size_t written) override;

  private:
    Socket& lowest() { return boost::beast::get_lowest_layer(stream_); }
    void on_handshake(boost::beast::error_code ec);
    void do_read_header();
    void on_readable(boost::beast::error_code ec);
    void on_first_byte(boost::beast::error_code ec, std::size_t n);
    void do_read_rest_of_header();
    void on_read_header(boost::beast::error_code ec, std::size_t);
    /// The headers are in: admit the request (before its body is read).
    void on_header();
    void do_continue();
    void on_continue(boost::beast::error_code ec, std::size_t);
    void do_read_body();
    void on_read_body(boost::beast::error_code ec, std::size_t);
    /// Parses body bytes that came with the header, without another read.
    /// True once the request is complete; `ec` set on a parse error.
    bool parse_buffered(boost::beast::error_code& ec);
    void on_body_error(boost::beast::error_code ec);
    void handle_request();
    /// Gives back what the last request left: its body's room in
    /// server.max_inflight_bytes, and buffers grown past small sizes, so that
    /// an idle connection holds almost nothing.
    void release_request_memory();
    void respond(Response r);
    /// A handler's Defer: the answer comes later through the returned Reply.
    ReplyPtr defer(std::chrono::milliseconds timeout, Response on_timeout);
    void after_direct();
    /// True while a direct answer is owed: the socket must stay open. With
    /// `close_after`, the session closes once it is written.
    bool direct_owed(bool close_after);
    void on_write(bool close, boost::beast::error_code ec, std::size_t);
    void do_close();
    /// Half-closes, and reads until the client closes too (or a second passes).
    void do_linger();
    /// The connection must show progress by `deadline_`, or it is closed.
    void set_deadline(std::chrono::steady_clock::duration d);
    void arm_watchdog();
    /// An owed answer (direct_) that has not come within answer_timeout: it
    /// is answered here, or the connection closed. True if it was overdue.
    bool owed_answer_overdue();

    // Before stream_: a TLS stream keeps a reference to it.
    const std::shared_ptr<boost::asio::ssl::context> tls_;
    Stream stream_;
    boost::beast::flat_buffer buffer_;
    char first_byte_ = 0;  // TLS: an idle connection waits by reading one byte
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::string out_;  // the answer's bytes, reused
    Router& router_;
    SessionSet& sessions_;
    IngestScratch& scratch_;
    const SessionLimits limits_;
    const ConnectionSlot slot_;
    InflightBytes inflight_;         // the body being read or handled
    RequestContext context_;         // the peer, and what admission found out
    bool inflight_refused_ = false;  // a chunk found server.max_inflight_bytes in use
    // Reserves each chunk of a chunked body, then keeps it (Beast's parser
    // keeps a reference to it).
    std::function<std::uint64_t(std::uint64_t, std::string_view, boost::beast::error_code&)>
        on_chunk_;
    Defer defer_;        // bound once to this session
    Timer reply_timer_;  // a deferred answer's timeout
    // One timer per connection for the idle and request timeouts: each I/O
    // only moves deadline_; the timer, when it fires, checks it and sleeps
    // again until the newest deadline.
    Timer watchdog_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    bool waiting_for_request_ = false;  // idle between requests: safe to close at once
    bool awaiting_deferred_ = false;    // its handler promised an answer through the inbox
    bool stopping_ = false;
    // A deferred answer with no timeout (a durable ack) is written to the
    // socket by the thread that produces it (the write-ahead log's writer),
    // not posted back here, while this session already reads the next
    // request; that request waits, parked, until the answer is out. Shared
    // with the SessionReply; its own mutex guards what both sides touch.
    std::shared_ptr<DirectAnswer> direct_;
    boost::beast::error_code parked_ec_;  // how the parked request's read ended
};

using Session = BasicSession<PlainStream>;
using TlsSession = BasicSession<TlsStream>;
extern template class BasicSession<PlainStream>;
extern template class BasicSession<TlsStream>;

}  // namespace chgate::http
