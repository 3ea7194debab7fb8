#include "flush/Bisector.hpp"

#include <charconv>
#include <optional>

namespace chgate::flush {

std::uint64_t error_row(std::string_view message) {
    constexpr std::string_view kMark = "(at row ";
    const auto at = message.rfind(kMark);
    if (at == std::string_view::npos) return 0;
    const char* begin = message.data() + at + kMark.size();
    std::uint64_t row = 0;
    auto [ptr, ec] = std::from_chars(begin, message.data() + message.size(), row);
    if (ec != std::errc{} || ptr == begin || ptr == message.data() + message.size() ||
        *ptr != ')') {
        return 0;
    }
    return row;
}

namespace {

using clickhouse::ErrorClass;
using clickhouse::InsertOutcome;

// A stretch of rows [lo, hi), and its refusal if it was already tried.
struct Range {
    std::size_t lo, hi;
    std::optional<InsertOutcome> failure;
};

}  // namespace

BisectResult bisect(std::string_view rows, const InsertOutcome& first,
                    const std::function<InsertOutcome(std::string_view)>& insert,
                    std::uint64_t max_inserts) {
    // Where each row starts; row i is rows[starts[i], starts[i+1] - 1).
    std::vector<std::size_t> starts;
    for (std::size_t pos = 0; pos < rows.size();) {
        starts.push_back(pos);
        const auto nl = rows.find('\n', pos);
        pos = nl == std::string_view::npos ? rows.size() : nl + 1;
    }
    const auto n = starts.size();
    starts.push_back(rows.size());
    auto slice = [&](std::size_t lo, std::size_t hi) {
        return rows.substr(starts[lo], starts[hi] - starts[lo]);
    };
    auto row = [&](std::size_t i) {
        auto r = slice(i, i + 1);
        if (!r.empty() && r.back() == '\n') r.remove_suffix(1);
        return r;
    };

    BisectResult result;
    std::vector<Range> work{{0, n, first}};
    while (!work.empty()) {
        Range r = std::move(work.back());
        work.pop_back();
        if (r.lo >= r.hi) continue;
        if (!r.failure) {
            if (result.inserts >= max_inserts) {
                for (auto i = r.lo; i < r.hi; ++i) {
                    result.bad_rows.push_back(
                        {row(i), 0, "not isolated: too many failing rows in the batch"});
                }
                continue;
            }
            ++result.inserts;
            auto outcome = insert(slice(r.lo, r.hi));
            if (outcome.error_class == ErrorClass::none) {
                result.inserted_rows += r.hi - r.lo;
                continue;
            }
            if (outcome.error_class != ErrorClass::quarantine) {
                // Not about the rows: stop, and hand back everything unresolved.
                result.interrupted = true;
                result.interruption = std::move(outcome);
                work.push_back({r.lo, r.hi, std::nullopt});
                for (auto it = work.rbegin(); it != work.rend(); ++it) {
                    result.remainder.append(slice(it->lo, it->hi));
                    result.remainder_rows += it->hi - it->lo;
                }
                return result;
            }
            r.failure = std::move(outcome);
        }
        if (r.hi - r.lo == 1) {
            result.bad_rows.push_back({row(r.lo), r.failure->code, r.failure->message});
            continue;
        }
        // Pushed in reverse: the rows before the bad one are tried first.
        const auto named = error_row(r.failure->message);
        if (named >= 1 && named <= r.hi - r.lo) {
            const auto bad = r.lo + named - 1;
            work.push_back({bad + 1, r.hi, std::nullopt});
            work.push_back({bad, bad + 1, std::nullopt});  // alone, to be sure
            work.push_back({r.lo, bad, std::nullopt});
        } else {
            const auto mid = r.lo + (r.hi - r.lo) / 2;
            work.push_back({mid, r.hi, std::nullopt});
            work.push_back({r.lo, mid, std::nullopt});
        }
    }
    return result;
}

}  // namespace chgate::flush
