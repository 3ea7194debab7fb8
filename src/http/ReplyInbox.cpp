#include "http/ReplyInbox.hpp"

#include <boost/asio/post.hpp>

#include "http/Session.hpp"

namespace chgate::http {

void ReplyInbox::deliver(std::shared_ptr<Session> session, Response r) {
    bool post = false;
    {
        std::lock_guard lock(mutex_);
        pending_.emplace_back(std::move(session), std::move(r));
        post = !scheduled_;
        scheduled_ = true;
    }
    if (post) boost::asio::post(ioc_, [this] { drain(); });
}

void ReplyInbox::drain() {
    {
        std::lock_guard lock(mutex_);
        delivering_.swap(pending_);
        scheduled_ = false;
    }
    for (auto& [session, response] : delivering_)
        session->on_deferred(std::move(response));
    delivering_.clear();
}

}  // namespace chgate::http
