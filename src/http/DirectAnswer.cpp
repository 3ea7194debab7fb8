#include "http/DirectAnswer.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "core/EnumNames.hpp"

namespace chgate::http {

std::size_t DirectAnswer::send_nonblocking(int fd, std::string_view bytes) {
    std::size_t written = 0;
    while (written < bytes.size()) {
        const auto n =
            ::send(fd, bytes.data() + written, bytes.size() - written, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            written += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            // EAGAIN: the session writes the rest. Anything else: the peer is
            // gone; its read fails too, and the session closes.
            if (errno != EAGAIN && errno != EWOULDBLOCK) written = bytes.size();
            break;
        }
    }
    return written;
}

DirectAnswer::Written DirectAnswer::write(const Response& r,
                                          std::shared_ptr<SessionBase>& writer_hold) {
    // Formatted before the lock: until the state says handed_back, only this
    // thread touches out_.
    write_response(r, framing_, out_);
    LockGuard lock(mutex_);
    if (state_ == State::taken_over) return {0, true};
    // Written under the lock, so that the session cannot take the answer
    // over (and write its own) while part of this one is out.
    const auto bytes = send_(fd_, out_);
    const bool whole = bytes == out_.size();
    state_ = whole ? State::written : State::handed_back;
    const bool tell = !whole || parked_ || close_wanted_;
    if (!tell) writer_hold.reset();
    return {bytes, tell};
}

bool DirectAnswer::drop() {
    LockGuard lock(mutex_);
    if (state_ == State::armed) return true;
    if (state_ == State::running) state_ = State::dropped;
    return false;
}

bool DirectAnswer::arm() {
    LockGuard lock(mutex_);
    if (state_ == State::dropped) {
        state_ = State::taken_over;
        return false;
    }
    if (state_ == State::running) state_ = State::armed;
    return true;
}

void DirectAnswer::take_over() {
    LockGuard lock(mutex_);
    state_ = State::taken_over;
}

bool DirectAnswer::park() {
    LockGuard lock(mutex_);
    if (!pending()) return false;
    parked_ = true;
    return true;
}

bool DirectAnswer::owed(bool close_after) {
    LockGuard lock(mutex_);
    if (!pending()) return false;
    if (close_after) close_wanted_ = true;
    return true;
}

DirectAnswer::Overdue DirectAnswer::overdue() {
    LockGuard lock(mutex_);
    if (!pending()) return Overdue::not_owed;
    // Begun by the writer: the rest waits for a client that does not read.
    if (state_ == State::handed_back) return Overdue::close;
    state_ = State::taken_over;
    return Overdue::answer_here;
}

void DirectAnswer::rest_written() {
    LockGuard lock(mutex_);
    state_ = State::written;
}

DirectAnswer::After DirectAnswer::after() {
    LockGuard lock(mutex_);
    return {parked_, close_wanted_};
}

DirectAnswer::State DirectAnswer::state() const {
    LockGuard lock(mutex_);
    return state_;
}

std::string_view to_string(DirectAnswer::State s) {
    using S = DirectAnswer::State;
    static constexpr core::EnumName<S> kNames[] = {
        {S::running, "running"},         {S::armed, "armed"},
        {S::dropped, "dropped"},         {S::written, "written"},
        {S::handed_back, "handed_back"}, {S::taken_over, "taken_over"},
    };
    return core::name_of<S>(kNames, s);
}

}  // namespace chgate::http
