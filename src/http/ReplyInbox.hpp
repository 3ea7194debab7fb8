#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <utility>
#include <vector>

#include "http/Response.hpp"
#include "util/Mutex.hpp"

namespace chgate::http {

class SessionBase;
class DirectAnswer;

/// Deferred answers bound for the sessions of one io thread. Any thread adds
/// to it; the first answer into an empty inbox posts one handler, which
/// delivers all that arrived meanwhile. The answers of one write-ahead log sync
/// thus cost the io thread one wake-up, not one each.
class ReplyInbox {
  public:
    explicit ReplyInbox(boost::asio::io_context& ioc) : ioc_(ioc) {}

    /// `request` is the session's number for the request answered: an answer
    /// that arrives for a request already answered is dropped there.
    void deliver(std::shared_ptr<SessionBase> session, Response r, std::uint64_t request);
    /// For an answer written straight to the socket (Session's DirectAnswer):
    /// the session has to go on with it, having `written` bytes of it out.
    void deliver_written(std::shared_ptr<SessionBase> session, std::shared_ptr<DirectAnswer> direct,
                         std::size_t written);
    boost::asio::io_context& context() { return ioc_; }

  private:
    void drain();  // on the io thread

    boost::asio::io_context& ioc_;
    Mutex mutex_;

    // Guarded by mutex_.
    struct Answer {
        std::shared_ptr<SessionBase> session;
        Response response;
        std::uint64_t request;
    };
    std::vector<Answer> pending_ GUARDED_BY(mutex_);
    struct Written {
        std::shared_ptr<SessionBase> session;
        std::shared_ptr<DirectAnswer> direct;
        std::size_t written;
    };
    std::vector<Written> pending_written_ GUARDED_BY(mutex_);
    bool scheduled_ GUARDED_BY(mutex_) = false;
    // The io thread's own: what drain() is delivering.
    std::vector<Answer> delivering_;
    std::vector<Written> delivering_written_;
};

}  // namespace chgate::http
