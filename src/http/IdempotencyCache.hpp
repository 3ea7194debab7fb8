#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

#include "http/Response.hpp"
#include "util/Mutex.hpp"

namespace chgate::http {

/// The answers to requests that carried an Idempotency-Key, so that a repeat
/// within the window gets the first answer instead of inserting again. Only
/// successful answers are kept: after a 429, 503 or 400 the client's retry is
/// processed anew. Bounded: past max_keys, the oldest keys go. In memory only:
/// a restart forgets the keys.
class IdempotencyCache {
  public:
    using Clock = std::chrono::steady_clock;

    IdempotencyCache(std::chrono::milliseconds window, std::size_t max_keys);

    enum class Claim {
        fresh,        ///< the key is new: process the request, then complete()
        in_progress,  ///< the first request with this key has no answer yet
        answered,     ///< `stored` holds the first answer
    };
    Claim claim(const std::string& key, Clock::time_point now, Response& stored);

    /// The answer to a claimed key: kept if successful, otherwise the key is forgotten.
    void complete(const std::string& key, const Response& r, Clock::time_point now);
    /// The claim ends without an answer to keep.
    void forget(const std::string& key);

    std::size_t size() const;

  private:
    struct Entry {
        bool answered = false;
        Response response;
        Clock::time_point at;
        std::list<std::string>::iterator position;
    };
    void expire(Clock::time_point now) REQUIRES(mutex_);

    const std::chrono::milliseconds window_;
    const std::size_t max_keys_;
    mutable Mutex mutex_;
    // Guarded by mutex_: the entries, and their keys oldest first.
    std::unordered_map<std::string, Entry> entries_ GUARDED_BY(mutex_);
    std::list<std::string> order_ GUARDED_BY(mutex_);
};

}  // namespace chgate::http
