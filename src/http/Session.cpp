#include "http/Session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/read.hpp>

#include "http/ApiError.hpp"
#include "http/DirectAnswer.hpp"
#include "http/ResponseWriter.hpp"
#include "util/Log.hpp"

#include <openssl/ssl.h>

#include <array>

namespace chgate::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {
// An idle connection keeps buffers up to these sizes for its next request;
// larger ones are given back. 10,000 idle connections hold ~10 KiB each at most.
constexpr std::size_t kKeptBodyCapacity = 4 * 1024;
constexpr std::size_t kKeptReadBuffer = 4 * 1024;
constexpr std::size_t kKeptAnswerCapacity = 2 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// The stream over a new connection: the socket itself, or TLS over it.
template <class Stream>
Stream make_stream(Socket&& socket, net::ssl::context* tls) {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
        return Stream(std::move(socket), *tls);
    } else {
        (void)tls;
        return Stream(std::move(socket));
    }
}

// For a deferred answer that never came (a handler's bug), so that the
// connection goes on.
Response lost_answer() {
    return error_response(ApiError::internal,
                          "chgate lost this request's answer; whether its events were stored "
                          "is unknown");
}
}  // namespace

// The Reply a session hands out: the first answer is posted to the session's
// own thread, or written straight to the socket (DirectAnswer); later ones are
// dropped.
class SessionReply : public Reply {
  public:
    SessionReply(std::shared_ptr<SessionBase> session, std::shared_ptr<DirectAnswer> direct)
        : session_(std::move(session)),
          direct_(std::move(direct)),
          inbox_(session_->inbox_),
          request_(session_->request_number_),
          work_(inbox_.context().get_executor()) {}
    ~SessionReply() override {
        // Dropped unanswered (a bug in a handler): a direct answer's session
        // would wait for ever, holding a parked request back. Answer for it,
        // or, while the handler still runs, let the session answer.
        if (!direct_ || sent_.exchange(true)) return;
        if (direct_->drop()) write_direct(lost_answer());
    }
    void send(Response r) override {
        if (sent_.exchange(true)) return;
        if (direct_) {
            write_direct(r);
        } else {
            inbox_.deliver(std::move(session_), std::move(r), request_);
        }
        session_.reset();
        work_.reset();  // the inbox's handler is work of its own
    }

  private:
    // Writes what the socket takes now, without blocking; the session's
    // thread hears of it only if it must write the rest, resume a parked
    // request, or close (and then gets this reply's hold on the session, to
    // release on its own thread: its SessionSet is that thread's).
    void write_direct(const Response& r) {
        const auto w = direct_->write(r, session_);
        if (w.tell_session) inbox_.deliver_written(std::move(session_), direct_, w.bytes);
    }

    std::shared_ptr<SessionBase> session_;  // kept alive until answered
    std::shared_ptr<DirectAnswer> direct_;
    ReplyInbox& inbox_;
    const std::uint64_t request_;  // the session's number for the request this answers
    // While an answer is owed, the io thread must not run out of work and
    // exit during a drain: the answer would never be written.
    net::executor_work_guard<net::io_context::executor_type> work_;
    std::atomic<bool> sent_{false};
};

template <class Stream>
BasicSession<Stream>::BasicSession(Socket socket, std::shared_ptr<net::ssl::context> tls,
                                   Router& router, SessionSet& sessions, ReplyInbox& inbox,
                                   IngestScratch& scratch, SessionLimits limits,
                                   ConnectionSlot slot)
    : SessionBase(inbox),
      tls_(std::move(tls)),
      stream_(make_stream<Stream>(std::move(socket), tls_.get())),
      router_(router),
      sessions_(sessions),
      scratch_(scratch),
      limits_(limits),
      slot_(std::move(slot)),
      inflight_(router.inflight_budget()),
      reply_timer_(stream_.get_executor()),
      watchdog_(stream_.get_executor(), std::chrono::steady_clock::time_point::max()) {
    sessions_.insert(this);
    defer_ = [this](std::chrono::milliseconds timeout, Response on_timeout) {
        return defer(timeout, std::move(on_timeout));
    };
    on_chunk_ = [this](std::uint64_t, std::string_view data, beast::error_code& ec) {
        // A chunked body says its size as it goes: reserve each chunk.
        if (!inflight_.reserve(data.size())) {
            inflight_refused_ = true;
            ec = bhttp::error::body_limit;
            return std::uint64_t{0};
        }
        parser_->get().body().append(data.data(), data.size());
        return std::uint64_t{data.size()};
    };
}

template <class Stream>
BasicSession<Stream>::~BasicSession() {
    sessions_.erase(this);
}

template <class Stream>
void BasicSession<Stream>::run() {
    beast::error_code ec;
    lowest().set_option(net::ip::tcp::no_delay(true), ec);
    context_.peer = lowest().remote_endpoint(ec).address();
    if constexpr (kTls) {
        // The handshake has header_timeout, as a request's headers do.
        set_deadline(limits_.header_timeout);
        stream_.async_handshake(
            net::ssl::stream_base::server,
            beast::bind_front_handler(&BasicSession::on_handshake, this->shared_from_this()));
    } else {
        do_read_header();  // sets the first deadline and arms the watchdog
    }
}

template <class Stream>
void BasicSession<Stream>::on_handshake(beast::error_code ec) {
    if (ec) {
        // Not TLS, a certificate refused (mTLS), or too slow: nothing to answer.
        LOG_DEBUG << "TLS handshake with " << context_.peer.to_string()
                  << " failed: " << ec.message();
        return do_close();
    }
    do_read_header();
}

template <class Stream>
void BasicSession<Stream>::set_deadline(std::chrono::steady_clock::duration d) {
    deadline_ = std::chrono::steady_clock::now() + d;
    // Reading ahead while an answer is owed: wake up when it is overdue, too.
    if (direct_) deadline_ = std::min(deadline_, direct_->owed_since() + limits_.answer_timeout);
    // Usually later than the watchdog's wake-up; earlier only after waiting
    // for a deferred answer (no deadline): then wake up in time for this one.
    if (deadline_ < watchdog_.expiry()) arm_watchdog();
}

template <class Stream>
void BasicSession<Stream>::arm_watchdog() {
    watchdog_.expires_at(deadline_);
    // Weak: a session whose I/O has ended must not be kept alive by its timer.
    watchdog_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || !self->lowest().is_open()) return;
        if (std::chrono::steady_clock::now() < self->deadline_) return self->arm_watchdog();
        // Reading ahead while an answer is owed: the client waits for that
        // answer, it is not idle; but not for ever.
        if (self->direct_ && self->owed_answer_overdue()) return;
        if (self->direct_owed(false)) {
            self->deadline_ = self->direct_->owed_since() + self->limits_.answer_timeout;
            return self->arm_watchdog();
        }
        // Idle too long between requests, or too slow within one: the pending
        // operation ends with operation_aborted and the session closes.
        beast::error_code ignored;
        self->lowest().close(ignored);
    });
}

template <class Stream>
void BasicSession<Stream>::stop() {
    stopping_ = true;
    // Idle connections close now; a request in progress is answered first.
    if (waiting_for_request_ && !direct_owed(true)) {
        beast::error_code ec;
        lowest().shutdown(net::ip::tcp::socket::shutdown_both, ec);
        lowest().close(ec);
    }
}

template <class Stream>
void BasicSession<Stream>::release_request_memory() {
    inflight_.release();
    context_.reset();
    inflight_refused_ = false;
    if (out_.capacity() > kKeptAnswerCapacity) std::string().swap(out_);
    // Bytes of a next request already read stay; room beyond them goes.
    if (buffer_.capacity() > kKeptReadBuffer && buffer_.size() <= kKeptReadBuffer) {
        buffer_.shrink_to_fit();
    }
}

template <class Stream>
void BasicSession<Stream>::do_read_header() {
    if (stopping_) return do_close();
    // A fresh parser per request (Beast's parsers are single-use); its body
    // string is the last one's, emptied, so a small one's capacity is reused.
    std::string body;
    if (parser_) body = std::move(parser_->get().body());
    parser_.emplace();
    if (body.capacity() <= kKeptBodyCapacity) {
        body.clear();
        parser_->get().body() = std::move(body);
    }
    release_request_memory();
    parser_->body_limit(limits_.max_body_size);
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_size));
    parser_->on_chunk_body(on_chunk_);
    waiting_for_request_ = true;
    if (buffer_.size() > 0) return do_read_rest_of_header();  // pipelined: it is here already
    // Idle until the first byte: idle_timeout. Then the headers have
    // header_timeout to arrive, however slowly they trickle in.
    set_deadline(limits_.idle_timeout);
    if constexpr (kTls) {
        // Asio and OpenSSL may hold the next request's bytes already (read with
        // the handshake's last message, or with the request before), so the
        // socket can stay quiet while a request waits: wait by reading one byte
        // through TLS. It takes no buffer beside TLS's own.
        stream_.async_read_some(
            net::buffer(&first_byte_, 1),
            beast::bind_front_handler(&BasicSession::on_first_byte, this->shared_from_this()));
    } else {
        // The wait takes no buffer: an idle connection holds none.
        lowest().async_wait(Socket::wait_read, beast::bind_front_handler(&BasicSession::on_readable,
                                                                         this->shared_from_this()));
    }
}

template <class Stream>
void BasicSession<Stream>::on_first_byte(beast::error_code ec, std::size_t n) {
    // Nothing of a request came: the client left, or idle_timeout passed. (A TLS
    // session never owes a direct answer: the log writer does not write to it.)
    if (ec || n == 0) return do_close();
    const auto to = buffer_.prepare(1);
    *static_cast<char*>(to.data()) = first_byte_;
    buffer_.commit(1);
    do_read_rest_of_header();
}

template <class Stream>
void BasicSession<Stream>::on_readable(beast::error_code ec) {
    if (ec) return on_read_header(ec, 0);
    do_read_rest_of_header();
}

template <class Stream>
void BasicSession<Stream>::do_read_rest_of_header() {
    set_deadline(limits_.header_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&BasicSession::on_read_header, this->shared_from_this()));
}

template <class Stream>
void BasicSession<Stream>::on_read_header(beast::error_code ec, std::size_t) {
    waiting_for_request_ = false;
    // Read ahead: nothing more goes out until the answer before is written.
    if (direct_ && direct_->park()) {
        parked_ec_ = ec;
        return;
    }
    direct_.reset();
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted) return do_close();
    if (ec == bhttp::error::body_limit) {
        return respond(error_response(ApiError::body_too_large,
                                      "the body is larger than server.max_body_size (" +
                                          std::to_string(limits_.max_body_size) + " bytes)"));
    }
    if (ec == bhttp::error::header_limit) {
        return respond(error_response(ApiError::header_too_large,
                                      "the request's headers are larger than "
                                      "server.max_header_size (" +
                                          std::to_string(limits_.max_header_size) + " bytes)"));
    }
    if (ec == beast::error::timeout || ec == net::error::connection_reset ||
        ec == net::error::eof || ec == net::error::bad_descriptor) {
        return do_close();
    }
    if (ec)
        return respond(
            error_response(ApiError::bad_request, "malformed HTTP request: " + ec.message()));
    on_header();
}

template <class Stream>
void BasicSession<Stream>::on_header() {
    // Refused on its headers: answered before the body is read, and before
    // "100 Continue" asks the client to send it.
    std::optional<std::uint64_t> length;
    if (const auto l = parser_->content_length()) length = *l;
    if (auto refused = router_.admit(parser_->get(), length, inflight_, context_)) {
        // The body may have come with the headers; the connection goes on
        // only if all of it did (respond() closes it otherwise).
        beast::error_code ignored;
        parse_buffered(ignored);
        return respond(std::move(*refused));
    }
    // curl and others wait for "100 Continue" before sending bodies over 1 KiB.
    const auto& req = parser_->get();
    if (beast::iequals(req[bhttp::field::expect], "100-continue") && !parser_->is_done()) {
        return do_continue();
    }
    beast::error_code ec;
    if (parse_buffered(ec)) return handle_request();
    if (ec) return on_body_error(ec);
    do_read_body();
}

template <class Stream>
bool BasicSession<Stream>::parse_buffered(beast::error_code& ec) {
    while (!parser_->is_done() && buffer_.size() > 0) {
        const auto used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec == bhttp::error::need_more) {
            ec = {};
            break;
        }
        if (ec || used == 0) break;
    }
    return !ec && parser_->is_done();
}

template <class Stream>
void BasicSession<Stream>::do_continue() {
    net::async_write(
        stream_, net::buffer(kContinue.data(), kContinue.size()),
        beast::bind_front_handler(&BasicSession::on_continue, this->shared_from_this()));
}

template <class Stream>
void BasicSession<Stream>::on_continue(beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    do_read_body();
}

template <class Stream>
void BasicSession<Stream>::do_read_body() {
    set_deadline(limits_.body_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&BasicSession::on_read_body, this->shared_from_this()));
}

template <class Stream>
void BasicSession<Stream>::on_read_body(beast::error_code ec, std::size_t) {
    if (ec) return on_body_error(ec);
    handle_request();
}

template <class Stream>
void BasicSession<Stream>::on_body_error(beast::error_code ec) {
    if (inflight_refused_) {
        return respond(error_response(ApiError::gateway_full,
                                      "the gateway is reading server.max_inflight_bytes of "
                                      "request bodies already; retry later"));
    }
    if (ec == bhttp::error::body_limit) {
        return respond(error_response(ApiError::body_too_large,
                                      "the body is larger than server.max_body_size (" +
                                          std::to_string(limits_.max_body_size) + " bytes)"));
    }
    do_close();  // the client went away, stalled or sent garbage; nothing was accepted
}

template <class Stream>
void BasicSession<Stream>::handle_request() {
    ++request_number_;
    awaiting_deferred_ = false;
    std::optional<Response> answer;
    try {
        answer = router_.handle(parser_->get(), scratch_, defer_, context_);
    } catch (const std::exception& e) {
        // A bug or an allocation failure: this request fails, the process
        // and the connection go on. A reply the handler made before it threw
        // is dropped (request_number_ and direct_ below).
        LOG_ERROR << "a request handler failed: " << e.what();
        answer = error_response(ApiError::internal,
                                "chgate failed while handling this request; whether its events "
                                "were stored is unknown");
    }
    scratch_.trim();
    // The rows are copied out: the body's room goes back at once, not when
    // the answer comes.
    inflight_.release();
    // No answer yet: a deferred one will come through on_deferred(), within
    // its own timeout; the connection waits for it however long that is.
    if (!answer) {
        // A direct answer needs no help from this thread: read the next request.
        if (direct_) {
            if (direct_->arm()) return do_read_header();
            direct_.reset();
            return respond(lost_answer());
        }
        awaiting_deferred_ = true;
        deadline_ = std::chrono::steady_clock::time_point::max();
        return;
    }
    // Deferred, then answered at once after all: the answer given wins.
    if (direct_) direct_->take_over();
    direct_.reset();
    respond(std::move(*answer));
}

template <class Stream>
ReplyPtr BasicSession<Stream>::defer(std::chrono::milliseconds timeout, Response on_timeout) {
    const auto& req = parser_->get();
    std::shared_ptr<DirectAnswer> direct;
    // Answers with a timeout (ack committed) come back here: the timer is here.
    // Over TLS every answer does: only this thread may write to the stream.
    if (!kTls && timeout.count() == 0 && parser_->is_done() && req.keep_alive() && !stopping_) {
        direct = std::make_shared<DirectAnswer>(
            lowest().native_handle(),
            Framing{req.version() == 10 ? 10U : 11U, true, req.method() == bhttp::verb::head});
        direct_ = direct;
    }
    auto reply = std::make_shared<SessionReply>(this->shared_from_this(), std::move(direct));
    if (timeout.count() > 0) {
        reply_timer_.expires_after(timeout);
        reply_timer_.async_wait([reply, r = std::move(on_timeout)](beast::error_code ec) mutable {
            if (!ec) reply->send(std::move(r));
        });
    }
    return reply;
}

template <class Stream>
void BasicSession<Stream>::on_deferred(Response r, std::uint64_t request) {
    if (!awaiting_deferred_ || request != request_number_) return;  // answered already
    awaiting_deferred_ = false;
    reply_timer_.cancel();
    respond(std::move(r));
}

template <class Stream>
void BasicSession<Stream>::respond(Response r) {
    const auto& req = parser_->get();
    // After an error mid-read the rest of the body is unread: close afterwards.
    const bool complete = parser_->is_done();
    const bool keep_alive = complete && req.keep_alive() && !stopping_;
    write_response(
        r, {req.version() == 10 ? 10U : 11U, keep_alive, req.method() == bhttp::verb::head}, out_);
    set_deadline(limits_.body_timeout);
    net::async_write(
        stream_, net::buffer(out_),
        beast::bind_front_handler(&BasicSession::on_write, this->shared_from_this(), !keep_alive));
}

template <class Stream>
void BasicSession<Stream>::on_write(bool close, beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    // Answered before the whole request was read (a refusal, a body too
    // large): read and drop the rest for a while before closing, so that the
    // client can finish sending and read the answer instead of a reset.
    if (close && parser_ && !parser_->is_done()) return do_linger();
    if (close) return do_close();
    do_read_header();
}

template <class Stream>
void BasicSession<Stream>::do_linger() {
    beast::error_code ec;
    lowest().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    set_deadline(std::chrono::seconds(1));  // the watchdog closes it then
    // The bytes are dropped: every lingering session of this thread may read
    // into the same place.
    thread_local std::array<char, 16 * 1024> discard;
    stream_.async_read_some(net::buffer(discard),
                            [self = this->shared_from_this()](beast::error_code e, std::size_t) {
                                if (e) return self->do_close();
                                self->do_linger();
                            });
}

template <class Stream>
void BasicSession<Stream>::on_direct_written(const std::shared_ptr<DirectAnswer>& d,
                                             std::size_t written) {
    if (d != direct_) return;  // an answer the session has already gone past
    const auto& out = d->out();
    if (written < out.size()) {
        // The socket took part of it: write the rest from here.
        set_deadline(limits_.body_timeout);
        net::async_write(stream_, net::buffer(out.data() + written, out.size() - written),
                         [self = this->shared_from_this(), d](beast::error_code ec, std::size_t) {
                             d->rest_written();
                             if (ec) return self->do_close();
                             self->after_direct();
                         });
        return;
    }
    after_direct();
}

template <class Stream>
void BasicSession<Stream>::after_direct() {
    const auto after = direct_->after();
    direct_.reset();
    if (after.parked) return on_read_header(parked_ec_, 0);
    if (after.close) do_close();
}

template <class Stream>
bool BasicSession<Stream>::direct_owed(bool close_after) {
    return direct_ && direct_->owed(close_after);
}

template <class Stream>
bool BasicSession<Stream>::owed_answer_overdue() {
    if (std::chrono::steady_clock::now() < direct_->owed_since() + limits_.answer_timeout) {
        return false;
    }
    const auto what = direct_->overdue();
    if (what == DirectAnswer::Overdue::not_owed) return false;
    LOG_WARN << "an answer owed for " << limits_.answer_timeout.count()
             << " ms did not come (the write-ahead log is slow, or the client does not read)";
    if (what == DirectAnswer::Overdue::close) {
        beast::error_code ignored;
        lowest().close(ignored);
        return true;
    }
    // Not begun by the writer: nothing of it went out, so it is answered
    // here, and the writer writes nothing.
    const bool parked = direct_->after().parked;
    direct_.reset();
    stopping_ = stopping_ || parked;  // a request read ahead is dropped with the connection
    respond(error_response(ApiError::not_committed,
                           "the write-ahead log has not confirmed the events within " +
                               std::to_string(limits_.answer_timeout.count()) +
                               " ms; they may or may not be stored"));
    return true;
}

template <class Stream>
void BasicSession<Stream>::do_close() {
    if (direct_owed(true)) return;
    beast::error_code ec;
    // TLS: no close_notify; every answer carries its length, so none is
    // needed to find its end.
    lowest().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    lowest().close(ec);
    watchdog_.cancel();
}

template class BasicSession<PlainStream>;
template class BasicSession<TlsStream>;

}  // namespace chgate::http
