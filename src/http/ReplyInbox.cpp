#include "http/ReplyInbox.hpp"

#include <boost/asio/post.hpp>

#include "http/Session.hpp"

namespace chgate::http {

void ReplyInbox::deliver(std::shared_ptr<SessionBase> session, Response r, std::uint64_t request) {
    bool post = false;
    {
        LockGuard lock(mutex_);
        pending_.push_back({std::move(session), std::move(r), request});
        post = !std::exchange(scheduled_, true);
    }
    // One drain at a time is posted; it takes everything that came meanwhile.
    if (post) boost::asio::post(ioc_, [this] { drain(); });
}

void ReplyInbox::deliver_written(std::shared_ptr<SessionBase> session,
                                 std::shared_ptr<DirectAnswer> direct, std::size_t written) {
    bool post = false;
    {
        LockGuard lock(mutex_);
        pending_written_.push_back({std::move(session), std::move(direct), written});
        post = !std::exchange(scheduled_, true);
    }
    if (post) boost::asio::post(ioc_, [this] { drain(); });
}

void ReplyInbox::drain() {
    {
        LockGuard lock(mutex_);
        delivering_.swap(pending_);
        delivering_written_.swap(pending_written_);
        scheduled_ = false;
    }
    for (auto& a : delivering_)
        a.session->on_deferred(std::move(a.response), a.request);
    delivering_.clear();
    for (auto& w : delivering_written_)
        w.session->on_direct_written(w.direct, w.written);
    delivering_written_.clear();
}

}  // namespace chgate::http
