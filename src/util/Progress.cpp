#include "util/Progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace chgate {

namespace {

std::string grouped(std::uint64_t n) {
    const auto digits = std::to_string(n);
    std::string out;
    out.reserve(digits.size() + digits.size() / 3);
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
        out.push_back(digits[i]);
    }
    return out;
}

std::string duration_text(double seconds) {
    char buf[32];
    if (seconds < 90) {
        std::snprintf(buf, sizeof buf, "%.0f s", std::ceil(seconds));
    } else if (seconds < 5400) {
        std::snprintf(buf, sizeof buf, "%.0f min", std::ceil(seconds / 60));
    } else {
        std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
    }
    return buf;
}

}  // namespace

std::string describe(const ProgressView& v) {
    std::string out = grouped(v.rows_done) + " rows done, " + (v.left_estimated ? "about " : "") +
                      grouped(v.rows_left) + " left";
    const auto all = v.rows_done + v.rows_left;
    if (all > 0) {
        out += " (" + std::to_string(v.rows_done * 100 / all) + "%)";
    }
    out += ", " + grouped(static_cast<std::uint64_t>(std::llround(v.rows_per_second))) + " rows/s";
    if (v.eta_seconds) {
        out += ", about " + duration_text(*v.eta_seconds) + " left";
    } else if (v.rows_left > 0) {
        out += ", time left unknown yet";
    }
    return out;
}

std::string operation_words(std::string_view operation) {
    if (operation == "wal_replay") return "replaying the write-ahead logs";
    if (operation == "spool_drain") return "draining the spool";
    if (operation == "dead_letter_replay") return "sending dead letters again";
    if (operation == "quarantine_replay") return "replaying quarantined rows";
    return std::string(operation);
}

Progress::Progress(std::string operation, std::string table, Clock::time_point started)
    : operation_(std::move(operation)),
      table_(std::move(table)),
      started_(started),
      last_due_(started) {}

void Progress::set_left(std::uint64_t rows) {
    left_.store(rows, std::memory_order_relaxed);
    by_bytes_.store(false, std::memory_order_relaxed);
}

void Progress::set_bytes(std::uint64_t done, std::uint64_t total) {
    bytes_done_.store(std::min(done, total), std::memory_order_relaxed);
    bytes_total_.store(total, std::memory_order_relaxed);
    by_bytes_.store(true, std::memory_order_relaxed);
}

ProgressView Progress::view(Clock::time_point now) const {
    ProgressView v;
    v.operation = operation_;
    v.table = table_;
    v.rows_done = done_.load(std::memory_order_relaxed);
    v.elapsed_seconds = std::max(0.0, std::chrono::duration<double>(now - started_).count());
    if (v.elapsed_seconds > 0)
        v.rows_per_second = static_cast<double>(v.rows_done) / v.elapsed_seconds;
    if (by_bytes_.load(std::memory_order_relaxed)) {
        const auto done = bytes_done_.load(std::memory_order_relaxed);
        const auto total = bytes_total_.load(std::memory_order_relaxed);
        const auto left = total - std::min(done, total);
        v.left_estimated = left > 0;
        if (done > 0) {
            const double per_byte = static_cast<double>(left) / static_cast<double>(done);
            v.rows_left = static_cast<std::uint64_t>(
                std::llround(static_cast<double>(v.rows_done) * per_byte));
            v.eta_seconds = v.elapsed_seconds * per_byte;
        } else if (left == 0) {
            v.eta_seconds = 0.0;
        }
        return v;
    }
    v.rows_left = left_.load(std::memory_order_relaxed);
    if (v.rows_left == 0) {
        v.eta_seconds = 0.0;
    } else if (v.rows_per_second > 0) {
        v.eta_seconds = static_cast<double>(v.rows_left) / v.rows_per_second;
    }
    return v;
}

bool Progress::due(Clock::time_point now, Clock::duration interval) {
    if (now - last_due_ < interval) return false;
    last_due_ = now;
    return true;
}

std::shared_ptr<Progress> ProgressBoard::begin(std::string operation, std::string table,
                                               Clock::time_point now) {
    auto p = std::make_shared<Progress>(std::move(operation), std::move(table), now);
    LockGuard lock(mutex_);
    running_.push_back(p);
    return p;
}

void ProgressBoard::end(const std::shared_ptr<Progress>& p) {
    LockGuard lock(mutex_);
    std::erase(running_, p);
}

std::vector<ProgressView> ProgressBoard::views(Clock::time_point now) const {
    std::vector<std::shared_ptr<Progress>> running;
    {
        LockGuard lock(mutex_);
        running = running_;
    }
    std::vector<ProgressView> out;
    out.reserve(running.size());
    for (const auto& p : running)
        out.push_back(p->view(now));
    return out;
}

ProgressScope::ProgressScope(ProgressBoard* board, std::string operation, std::string table)
    : board_(board) {
    const auto now = Progress::Clock::now();
    progress_ = board_ ? board_->begin(std::move(operation), std::move(table), now)
                       : std::make_shared<Progress>(std::move(operation), std::move(table), now);
}

ProgressScope::~ProgressScope() {
    if (board_) board_->end(progress_);
}

}  // namespace chgate
