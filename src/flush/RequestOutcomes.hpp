#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "clickhouse/ErrorClassifier.hpp"
#include "flush/Batch.hpp"

namespace chgate::flush {

/// Pure helpers that give each ack: committed request the outcome of its own
/// rows in a batch, and never another request's data.

/// One owner number per row of a batch of `row_count` rows: 0 for rows no
/// waiting request owns, else 1 + the index of the owner's first entry in
/// `waiters` (a request with several entries has one number).
std::vector<std::uint32_t> row_owners(const std::vector<WaiterRows>& waiters,
                                      std::uint64_t row_count);

/// The entry owning row `row`, or nullptr.
const WaiterRows* owner_of(const std::vector<WaiterRows>& waiters, std::uint64_t row);

/// `waiters` for the batch made of rows `kept` (positions, ascending) of the
/// old one: positions renumbered, entries split where rows between them left.
std::vector<WaiterRows> keep_rows(const std::vector<WaiterRows>& waiters,
                                  std::span<const std::size_t> kept);

/// What a request is told of a refusal. ClickHouse's message quotes the rows
/// it failed on, so it is shown whole only when `own_rows_only` (every row of
/// the refused INSERT was this request's); otherwise the code and its name.
std::string message_for_request(int code, const std::string& message, bool own_rows_only);

/// Collects, per request, the first refusal of its rows, and tells each
/// request of a batch its outcome once.
class RequestOutcomes {
  public:
    /// `earlier`: refusals the batch kept from before (Batch::refused).
    explicit RequestOutcomes(std::vector<std::pair<CommitWaiterPtr, std::string>> earlier = {})
        : refused_(std::move(earlier)) {}

    /// Row `row` of the batch was refused with `message` (already fit for its
    /// owner, see message_for_request).
    void refuse_row(const std::vector<WaiterRows>& waiters, std::uint64_t row,
                    const std::string& message);
    /// Every request with rows in the batch was refused; `message` says how, per request.
    void refuse_all(const std::vector<WaiterRows>& waiters,
                    const std::function<std::string(const WaiterRows&)>& message);
    /// The batch goes on with the rows of `after`, fewer than `before`: each
    /// request of `before` with no rows left is told its outcome now (refused,
    /// or committed). Returns the refusals of requests still in the batch, to
    /// keep in Batch::refused until it ends.
    std::vector<std::pair<CommitWaiterPtr, std::string>> settle(
        const std::vector<WaiterRows>& before, const std::vector<WaiterRows>& after);
    /// The outcome of a request none of whose rows was refused; unset: committed.
    using Otherwise = std::function<CommitOutcome(const CommitWaiterPtr&)>;
    /// The batch ended: tells every request of `waiters`, once each, whether
    /// its rows were committed.
    void report(const std::vector<WaiterRows>& waiters, const Otherwise& otherwise = {}) const;
    /// What is collected, to keep in Batch::refused while the batch goes on.
    std::vector<std::pair<CommitWaiterPtr, std::string>> take() { return std::move(refused_); }
    /// Whether any request of the batch had rows refused.
    bool any() const { return !refused_.empty(); }

  private:
    const std::string* find(const CommitWaiter* w) const;
    void tell(const CommitWaiterPtr& w, const Otherwise& otherwise) const;
    std::vector<std::pair<CommitWaiterPtr, std::string>> refused_;
};

}  // namespace chgate::flush
