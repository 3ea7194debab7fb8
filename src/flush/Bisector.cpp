#include "flush/Bisector.hpp"

#include <algorithm>
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

std::vector<std::size_t> row_starts(std::string_view rows) {
    std::vector<std::size_t> starts;
    for (std::size_t pos = 0; pos < rows.size();) {
        starts.push_back(pos);
        const auto nl = rows.find('\n', pos);
        pos = nl == std::string_view::npos ? rows.size() : nl + 1;
    }
    starts.push_back(rows.size());
    return starts;
}

namespace {

using clickhouse::ErrorClass;
using clickhouse::InsertOutcome;

// Rows to try together (positions, ascending), and their refusal if they
// were already tried.
struct Attempt {
    std::vector<std::size_t> rows;
    std::optional<InsertOutcome> failure;
};

}  // namespace

BisectResult bisect(std::string_view rows, const InsertOutcome& first,
                    const std::function<InsertOutcome(std::string_view)>& insert,
                    std::uint64_t max_inserts, std::span<const std::uint32_t> owners) {
    const auto starts = row_starts(rows);
    const auto n = starts.size() - 1;
    auto line = [&](std::size_t i) {
        auto r = rows.substr(starts[i], starts[i + 1] - starts[i]);
        if (!r.empty() && r.back() == '\n') r.remove_suffix(1);
        return r;
    };
    auto owner = [&](std::size_t i) -> std::uint32_t { return i < owners.size() ? owners[i] : 0; };
    // Whether every row of `a` has the owner of row `i` (and there are owners).
    auto one_owner = [&](const std::vector<std::size_t>& a, std::size_t i) {
        if (owners.empty() || owner(i) == 0) return a.size() == 1;
        for (const auto r : a)
            if (owner(r) != owner(i)) return false;
        return true;
    };

    BisectResult result;
    std::vector<Attempt> work;
    {
        Attempt all;
        all.rows.resize(n);
        for (std::size_t i = 0; i < n; ++i)
            all.rows[i] = i;
        all.failure = first;
        work.push_back(std::move(all));
    }
    InsertOutcome last_error = first;
    std::string body;  // the rows of one attempt, reused
    while (!work.empty()) {
        Attempt a = std::move(work.back());
        work.pop_back();
        if (a.rows.empty()) continue;
        if (!a.failure) {
            if (result.inserts >= max_inserts) {
                // Out of budget: this and everything still queued is unresolved.
                work.push_back(std::move(a));
                for (auto it = work.rbegin(); it != work.rend(); ++it) {
                    for (const auto r : it->rows) {
                        result.bad_rows.push_back(
                            {r, line(r), last_error.code, last_error.message, false, true});
                    }
                }
                return result;
            }
            body.clear();
            for (const auto r : a.rows)
                body.append(rows.substr(starts[r], starts[r + 1] - starts[r]));
            ++result.inserts;
            auto outcome = insert(body);
            if (outcome.error_class == ErrorClass::none) {
                ++result.successful;
                result.inserted_rows += a.rows.size();
                continue;
            }
            if (outcome.error_class != ErrorClass::quarantine) {
                // Not about the rows: stop, and hand back everything unresolved.
                result.interrupted = true;
                result.interruption = std::move(outcome);
                work.push_back(std::move(a));
                for (auto it = work.rbegin(); it != work.rend(); ++it)
                    result.remainder.insert(result.remainder.end(), it->rows.begin(),
                                            it->rows.end());
                std::sort(result.remainder.begin(), result.remainder.end());
                return result;
            }
            last_error = outcome;
            a.failure = std::move(outcome);
        }
        const auto named = error_row(a.failure->message);
        if (a.rows.size() == 1 || (named >= 1 && named <= a.rows.size())) {
            // The named row is bad; the others go again together.
            const auto at = a.rows.size() == 1 ? 0 : named - 1;
            const auto r = a.rows[at];
            result.bad_rows.push_back(
                {r, line(r), a.failure->code, a.failure->message, one_owner(a.rows, r), false});
            a.rows.erase(a.rows.begin() + static_cast<std::ptrdiff_t>(at));
            work.push_back({std::move(a.rows), std::nullopt});
            continue;
        }
        // No row named: halve. Pushed in reverse, so the first half goes first.
        const auto mid = a.rows.size() / 2;
        Attempt second{{a.rows.begin() + static_cast<std::ptrdiff_t>(mid), a.rows.end()},
                       std::nullopt};
        a.rows.resize(mid);
        work.push_back(std::move(second));
        work.push_back({std::move(a.rows), std::nullopt});
    }
    return result;
}

}  // namespace chgate::flush
