#include "flush/RequestOutcomes.hpp"

#include <algorithm>
#include <unordered_map>

namespace chgate::flush {

std::vector<std::uint32_t> row_owners(const std::vector<WaiterRows>& waiters,
                                      std::uint64_t row_count) {
    std::vector<std::uint32_t> owners(row_count, 0);
    std::unordered_map<const CommitWaiter*, std::uint32_t> ids;
    for (std::size_t i = 0; i < waiters.size(); ++i) {
        const auto& w = waiters[i];
        const auto id =
            ids.emplace(w.waiter.get(), static_cast<std::uint32_t>(i + 1)).first->second;
        const auto end = std::min<std::uint64_t>(w.first + w.count, row_count);
        for (auto r = w.first; r < end; ++r)
            owners[r] = id;
    }
    return owners;
}

const WaiterRows* owner_of(const std::vector<WaiterRows>& waiters, std::uint64_t row) {
    // The last entry starting at or before `row`.
    auto it = std::upper_bound(waiters.begin(), waiters.end(), row,
                               [](std::uint64_t r, const WaiterRows& w) { return r < w.first; });
    if (it == waiters.begin()) return nullptr;
    --it;
    return row < it->first + it->count ? &*it : nullptr;
}

std::vector<WaiterRows> keep_rows(const std::vector<WaiterRows>& waiters,
                                  std::span<const std::size_t> kept) {
    std::vector<WaiterRows> out;
    for (std::size_t new_pos = 0; new_pos < kept.size(); ++new_pos) {
        const auto old = kept[new_pos];
        const auto* w = owner_of(waiters, old);
        if (w == nullptr) continue;
        const auto in_request = w->first_in_request + (old - w->first);
        // Extend the last entry while its request's rows stay consecutive.
        if (!out.empty()) {
            auto& last = out.back();
            if (last.waiter == w->waiter && last.first + last.count == new_pos &&
                last.first_in_request + last.count == in_request) {
                ++last.count;
                continue;
            }
        }
        out.push_back({w->waiter, new_pos, 1, in_request});
    }
    return out;
}

std::string message_for_request(int code, const std::string& message, bool own_rows_only) {
    if (own_rows_only || code == 0) return message;
    std::string out = "Code " + std::to_string(code);
    if (const char* name = clickhouse::error_name(code)) out.append(" (").append(name).append(")");
    return out +
           "; ClickHouse's full message quotes rows of other requests, so it is kept with the "
           "rows in the dead letters instead";
}

void RequestOutcomes::refuse_row(const std::vector<WaiterRows>& waiters, std::uint64_t row,
                                 const std::string& message) {
    const auto* w = owner_of(waiters, row);
    if (w == nullptr || find(w->waiter.get()) != nullptr) return;
    refused_.emplace_back(w->waiter, "ClickHouse refused row " +
                                         std::to_string(w->first_in_request + (row - w->first)) +
                                         " of the request: " + message);
}

void RequestOutcomes::refuse_all(const std::vector<WaiterRows>& waiters,
                                 const std::function<std::string(const WaiterRows&)>& message) {
    for (const auto& w : waiters) {
        if (find(w.waiter.get()) == nullptr) refused_.emplace_back(w.waiter, message(w));
    }
}

const std::string* RequestOutcomes::find(const CommitWaiter* w) const {
    for (const auto& [waiter, message] : refused_) {
        if (waiter.get() == w) return &message;
    }
    return nullptr;
}

std::vector<std::pair<CommitWaiterPtr, std::string>> RequestOutcomes::settle(
    const std::vector<WaiterRows>& before, const std::vector<WaiterRows>& after) {
    auto present = [&](const CommitWaiter* w) {
        return std::any_of(after.begin(), after.end(),
                           [w](const WaiterRows& a) { return a.waiter.get() == w; });
    };
    std::vector<const CommitWaiter*> told;
    for (const auto& w : before) {
        if (present(w.waiter.get())) continue;
        if (std::find(told.begin(), told.end(), w.waiter.get()) != told.end()) continue;
        told.push_back(w.waiter.get());
        tell(w.waiter, {});
    }
    std::vector<std::pair<CommitWaiterPtr, std::string>> keep;
    for (const auto& [w, message] : refused_) {
        if (present(w.get())) keep.emplace_back(w, message);
    }
    return keep;
}

void RequestOutcomes::report(const std::vector<WaiterRows>& waiters,
                             const Otherwise& otherwise) const {
    std::vector<const CommitWaiter*> told;
    for (const auto& w : waiters) {
        if (std::find(told.begin(), told.end(), w.waiter.get()) != told.end()) continue;
        told.push_back(w.waiter.get());
        tell(w.waiter, otherwise);
    }
}

void RequestOutcomes::tell(const CommitWaiterPtr& w, const Otherwise& otherwise) const {
    if (const auto* message = find(w.get())) {
        w->batch_finished({false, true, *message});
    } else {
        w->batch_finished(otherwise ? otherwise(w) : CommitOutcome{});
    }
}

}  // namespace chgate::flush
