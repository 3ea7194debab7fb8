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

// One bisection: a stack of attempts, worked from the top, so that the rows
// are resolved in order.
class Bisection {
  public:
    Bisection(std::string_view rows, const InsertOutcome& first,
              const std::function<InsertOutcome(std::string_view)>& insert,
              std::uint64_t max_inserts, std::span<const std::uint32_t> owners)
        : rows_(rows),
          starts_(row_starts(rows)),
          insert_(insert),
          max_inserts_(max_inserts),
          owners_(owners),
          last_error_(first) {
        Attempt all;
        all.rows.resize(starts_.size() - 1);
        for (std::size_t i = 0; i < all.rows.size(); ++i)
            all.rows[i] = i;
        all.failure = first;
        work_.push_back(std::move(all));
    }

    BisectResult run() {
        while (!work_.empty()) {
            Attempt a = std::move(work_.back());
            work_.pop_back();
            if (a.rows.empty()) continue;
            if (!a.failure) {
                if (result_.inserts >= max_inserts_) return give_up(std::move(a));
                if (!try_insert(a)) return std::move(result_);
                if (!a.failure) continue;  // inserted
            }
            split(std::move(a));
        }
        return std::move(result_);
    }

  private:
    std::string_view line(std::size_t i) const {
        auto r = rows_.substr(starts_[i], starts_[i + 1] - starts_[i]);
        if (!r.empty() && r.back() == '\n') r.remove_suffix(1);
        return r;
    }
    std::uint32_t owner(std::size_t i) const { return i < owners_.size() ? owners_[i] : 0; }
    // Whether every row of `a` has the owner of row `i` (and there are owners).
    bool one_owner(const std::vector<std::size_t>& a, std::size_t i) const {
        if (owners_.empty() || owner(i) == 0) return a.size() == 1;
        return std::all_of(a.begin(), a.end(), [&](auto r) { return owner(r) == owner(i); });
    }

    // Out of budget: `a` and everything still queued is unresolved.
    BisectResult give_up(Attempt a) {
        work_.push_back(std::move(a));
        for (auto it = work_.rbegin(); it != work_.rend(); ++it) {
            for (const auto r : it->rows) {
                result_.bad_rows.push_back(
                    {r, line(r), last_error_.code, last_error_.message, false, true});
            }
        }
        return std::move(result_);
    }

    // Inserts `a`'s rows; a refusal of the rows is kept in a.failure. False
    // when the refusal is not about the rows: the bisection stops, and hands
    // back everything unresolved.
    bool try_insert(Attempt& a) {
        body_.clear();
        for (const auto r : a.rows)
            body_.append(rows_.substr(starts_[r], starts_[r + 1] - starts_[r]));
        ++result_.inserts;
        auto outcome = insert_(body_);
        if (outcome.error_class == ErrorClass::none) {
            ++result_.successful;
            result_.inserted_rows += a.rows.size();
            return true;
        }
        if (outcome.error_class == ErrorClass::quarantine) {
            last_error_ = outcome;
            a.failure = std::move(outcome);
            return true;
        }
        result_.interrupted = true;
        result_.interruption = std::move(outcome);
        work_.push_back(std::move(a));
        for (auto it = work_.rbegin(); it != work_.rend(); ++it)
            result_.remainder.insert(result_.remainder.end(), it->rows.begin(), it->rows.end());
        std::sort(result_.remainder.begin(), result_.remainder.end());
        return false;
    }

    // A refused attempt: the row its error names is bad, and the others go
    // again together; with no row named, the rows are halved.
    void split(Attempt a) {
        const auto named = error_row(a.failure->message);
        if (a.rows.size() == 1 || (named >= 1 && named <= a.rows.size())) {
            const auto at = a.rows.size() == 1 ? 0 : named - 1;
            const auto r = a.rows[at];
            result_.bad_rows.push_back(
                {r, line(r), a.failure->code, a.failure->message, one_owner(a.rows, r), false});
            a.rows.erase(a.rows.begin() + static_cast<std::ptrdiff_t>(at));
            work_.push_back({std::move(a.rows), std::nullopt});
            return;
        }
        // Pushed in reverse, so the first half goes first.
        const auto mid = a.rows.size() / 2;
        Attempt second{{a.rows.begin() + static_cast<std::ptrdiff_t>(mid), a.rows.end()},
                       std::nullopt};
        a.rows.resize(mid);
        work_.push_back(std::move(second));
        work_.push_back({std::move(a.rows), std::nullopt});
    }

    const std::string_view rows_;
    const std::vector<std::size_t> starts_;
    const std::function<InsertOutcome(std::string_view)>& insert_;
    const std::uint64_t max_inserts_;
    const std::span<const std::uint32_t> owners_;
    BisectResult result_;
    std::vector<Attempt> work_;
    InsertOutcome last_error_;
    std::string body_;  // the rows of one attempt, reused
};

}  // namespace

BisectResult bisect(std::string_view rows, const InsertOutcome& first,
                    const std::function<InsertOutcome(std::string_view)>& insert,
                    std::uint64_t max_inserts, std::span<const std::uint32_t> owners) {
    return Bisection(rows, first, insert, max_inserts, owners).run();
}

}  // namespace chgate::flush
