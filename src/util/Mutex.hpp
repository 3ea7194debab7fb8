#pragma once

#include <condition_variable>
#include <mutex>
#include <shared_mutex>

// Clang's thread-safety analysis (-Wthread-safety): "guarded by mutex_" said
// to the compiler, as ClickHouse does with TSA_GUARDED_BY. The clang builds
// (deploy/test.sh's asan and tsan parts) turn its warnings into errors; gcc
// ignores the attributes.
#if defined(__clang__)
#define CHGATE_TSA(x) __attribute__((x))
#else
#define CHGATE_TSA(x)
#endif

#define CAPABILITY(x) CHGATE_TSA(capability(x))
#define SCOPED_CAPABILITY CHGATE_TSA(scoped_lockable)
#define GUARDED_BY(x) CHGATE_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) CHGATE_TSA(pt_guarded_by(x))
#define REQUIRES(...) CHGATE_TSA(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) CHGATE_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) CHGATE_TSA(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) CHGATE_TSA(try_acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) CHGATE_TSA(acquire_shared_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) CHGATE_TSA(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) CHGATE_TSA(release_generic_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) CHGATE_TSA(requires_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) CHGATE_TSA(locks_excluded(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS CHGATE_TSA(no_thread_safety_analysis)

namespace chgate {

/// std::mutex, with the annotations the analysis needs (libstdc++'s has none).
class CAPABILITY("mutex") Mutex {
  public:
    void lock() ACQUIRE() { m_.lock(); }
    void unlock() RELEASE() { m_.unlock(); }
    bool try_lock() TRY_ACQUIRE(true) { return m_.try_lock(); }

  private:
    friend class UniqueLock;
    std::mutex m_;
};

/// std::lock_guard for Mutex.
class SCOPED_CAPABILITY LockGuard {
  public:
    explicit LockGuard(Mutex& m) ACQUIRE(m) : m_(m) { m_.lock(); }
    ~LockGuard() RELEASE() { m_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

  private:
    Mutex& m_;
};

/// std::shared_mutex, annotated: many readers or one writer.
class CAPABILITY("mutex") SharedMutex {
  public:
    void lock() ACQUIRE() { m_.lock(); }
    void unlock() RELEASE() { m_.unlock(); }
    void lock_shared() ACQUIRE_SHARED() { m_.lock_shared(); }
    void unlock_shared() RELEASE_SHARED() { m_.unlock_shared(); }

  private:
    std::shared_mutex m_;
};

/// Holds a SharedMutex exclusively (a writer).
class SCOPED_CAPABILITY WriterLock {
  public:
    explicit WriterLock(SharedMutex& m) ACQUIRE(m) : m_(m) { m_.lock(); }
    ~WriterLock() RELEASE() { m_.unlock(); }
    WriterLock(const WriterLock&) = delete;
    WriterLock& operator=(const WriterLock&) = delete;

  private:
    SharedMutex& m_;
};

/// Holds a SharedMutex shared (a reader).
class SCOPED_CAPABILITY ReaderLock {
  public:
    explicit ReaderLock(SharedMutex& m) ACQUIRE_SHARED(m) : m_(m) { m_.lock_shared(); }
    ~ReaderLock() RELEASE_GENERIC() { m_.unlock_shared(); }
    ReaderLock(const ReaderLock&) = delete;
    ReaderLock& operator=(const ReaderLock&) = delete;

  private:
    SharedMutex& m_;
};

/// std::unique_lock for Mutex, which a CondVar can wait on. While it waits,
/// the mutex is released and taken again; to the analysis it stays held.
class SCOPED_CAPABILITY UniqueLock {
  public:
    explicit UniqueLock(Mutex& m) ACQUIRE(m) : lock_(m.m_) {}
    ~UniqueLock() RELEASE() = default;
    void unlock() RELEASE() { lock_.unlock(); }
    void lock() ACQUIRE() { lock_.lock(); }
    UniqueLock(const UniqueLock&) = delete;
    UniqueLock& operator=(const UniqueLock&) = delete;

  private:
    friend class CondVar;
    std::unique_lock<std::mutex> lock_;
};

/// std::condition_variable for UniqueLock. Waits take no predicate: a lambda
/// is analysed as a function of its own, which does not hold the lock, so
/// callers write the loop (`while (!ready_) cv_.wait(lock);`), where the
/// analysis sees the guarded reads.
class CondVar {
  public:
    void wait(UniqueLock& l) { cv_.wait(l.lock_); }
    template <class Clock, class Duration>
    std::cv_status wait_until(UniqueLock& l, const std::chrono::time_point<Clock, Duration>& t) {
        return cv_.wait_until(l.lock_, t);
    }
    template <class Rep, class Period>
    std::cv_status wait_for(UniqueLock& l, const std::chrono::duration<Rep, Period>& d) {
        return cv_.wait_for(l.lock_, d);
    }
    void notify_one() noexcept { cv_.notify_one(); }
    void notify_all() noexcept { cv_.notify_all(); }

  private:
    std::condition_variable cv_;
};

}  // namespace chgate
