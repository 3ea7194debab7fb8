#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/Response.hpp"
#include "http/ResponseWriter.hpp"
#include "util/Mutex.hpp"

namespace chgate::http {

class SessionBase;

/// An answer written straight to a plain socket by the thread that produces
/// it (the write-ahead log's writer, for a durable ack), not posted back to
/// the session's io thread, while that thread already reads the next request.
/// It is shared by the two threads; this class is what they agree on.
///
/// States, and who moves between them:
///
///   running ──arm()──────────▶ armed            the handler returned; the session reads ahead
///   running ──drop()─────────▶ dropped          the reply went away while the handler ran
///   dropped ──arm()──────────▶ taken_over       the session answers "lost" itself
///   running ──take_over()────▶ taken_over       the handler answered at once after all
///   running, armed ──write()─▶ written          the socket took the whole answer
///   running, armed ──write()─▶ handed_back      the socket took part: the session writes the rest
///   handed_back ──rest_written()─▶ written
///   armed ──overdue()────────▶ taken_over       not begun within answer_timeout: the session
///   answers taken_over ──write()─────▶ taken_over       the writer writes nothing
///
/// Beside the state, the session records two intentions: it parked its next
/// request until this answer is out (park()), or it wants to close once it is
/// (owed(true)). The writer tells the session of its write only when the
/// session must act on it: write the rest, resume a parked request, or close.
class DirectAnswer {
  public:
    enum class State { running, armed, dropped, written, handed_back, taken_over };

    /// Writes as much of `bytes` as the socket `fd` takes without blocking and
    /// returns how many went out; bytes.size() when the peer is gone (its
    /// read fails too, and the session closes).
    using SendSome = std::function<std::size_t(int fd, std::string_view bytes)>;
    static std::size_t send_nonblocking(int fd, std::string_view bytes);

    DirectAnswer(int fd, Framing framing, SendSome send = send_nonblocking)
        : fd_(fd), framing_(framing), send_(std::move(send)) {}

    // ---- The writer's side (any thread).

    /// What write() did.
    struct Written {
        std::size_t bytes = 0;  ///< of out()
        /// The session must hear of it (ReplyInbox::deliver_written): to
        /// write the rest, resume a parked request or close, or (taken over)
        /// only so that the writer's hold on the session ends on its thread.
        bool tell_session = false;
    };
    /// Formats `r` and writes what the socket takes. Nothing is written once
    /// the session has taken the answer over. `writer_hold` is the writer's
    /// hold on the session: released here, under the lock, when the session
    /// need not hear of the write. The session's read of its next request
    /// then still holds it (that read takes this lock before it can see the
    /// answer is out), so this is never the last hold, and the session never
    /// ends on the writer's thread. Left for the caller when tell_session.
    Written write(const Response& r, std::shared_ptr<SessionBase>& writer_hold) EXCLUDES(mutex_);
    /// The reply went away unanswered (a handler's bug). True when the
    /// handler had returned (armed): then the caller writes a "lost answer"
    /// with write(). Otherwise the session answers it when the handler returns.
    bool drop() EXCLUDES(mutex_);

    // ---- The session's side (its io thread).

    /// The handler returned without an answer: the session may read ahead.
    /// False when the reply was already dropped: the session answers itself.
    bool arm() EXCLUDES(mutex_);
    /// The handler answered at once after all, or the answer is overdue and
    /// not begun: the session answers, the writer writes nothing.
    void take_over() EXCLUDES(mutex_);
    /// The next request's header is in: true (and the request is parked)
    /// while this answer is not wholly out.
    bool park() EXCLUDES(mutex_);
    /// True while the answer is not wholly out (the socket must stay open);
    /// with `close_after`, the session closes once it is.
    bool owed(bool close_after) EXCLUDES(mutex_);
    /// What to do about an answer owed longer than answer_timeout.
    enum class Overdue {
        not_owed,     ///< it is out after all
        answer_here,  ///< not begun: the session answers (the writer writes nothing)
        close,        ///< begun: the client does not read; close the connection
    };
    Overdue overdue() EXCLUDES(mutex_);
    /// The session wrote the rest that the writer handed back.
    void rest_written() EXCLUDES(mutex_);
    /// Once the answer is out: whether a request is parked, and whether the
    /// session wants to close.
    struct After {
        bool parked = false;
        bool close = false;
    };
    After after() EXCLUDES(mutex_);

    /// The answer's bytes: the writer's, then (handed back) the session's.
    const std::string& out() const { return out_; }
    std::chrono::steady_clock::time_point owed_since() const { return owed_since_; }
    State state() const EXCLUDES(mutex_);

  private:
    bool pending() const REQUIRES(mutex_) {
        return state_ != State::written && state_ != State::taken_over;
    }

    // Set before the answer is shared.
    const int fd_;
    const Framing framing_;
    const SendSome send_;
    const std::chrono::steady_clock::time_point owed_since_ = std::chrono::steady_clock::now();
    std::string out_;  // written by the writer before it takes mutex_; then read-only

    mutable Mutex mutex_;
    State state_ GUARDED_BY(mutex_) = State::running;
    bool parked_ GUARDED_BY(mutex_) = false;        // the session holds its next request
    bool close_wanted_ GUARDED_BY(mutex_) = false;  // the session closes once it is out
};

std::string_view to_string(DirectAnswer::State s);

}  // namespace chgate::http
