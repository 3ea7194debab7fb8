#pragma once

#include <pthread.h>

#include <string>

namespace chgate {

/// Names the calling thread, as `top -H` and debuggers show it (15 characters at most).
inline void set_thread_name(const std::string& name) {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace chgate
