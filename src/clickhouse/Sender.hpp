#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "clickhouse/ErrorClassifier.hpp"
#include "clickhouse/HttpResponse.hpp"
#include "config/Config.hpp"

namespace chgate::clickhouse {

/// One INSERT: a batch's rows, or some of them while bisection looks for bad ones.
struct InsertCall {
    const std::string& insert_query;  ///< INSERT INTO … FORMAT JSONEachRow (or RowBinary)
    std::string_view rows;            ///< NDJSON, one row per line
    std::uint64_t batch_id = 0;       ///< with the rows, makes the deduplication token
    config::Compression compression = config::Compression::none;
    /// Into a Distributed table: synchronously (insert_distributed_sync=1),
    /// where the server has that setting.
    bool distributed = false;
    /// The cluster's shard (from 1) whose replicas take it; 0: the replicas of
    /// tables without shard_by.
    std::uint32_t shard = 0;
    /// unknown_fields: ignore: input_format_skip_unknown_fields=1.
    bool skip_unknown_fields = false;
    /// When not empty, the body sent instead of `rows` (RowBinary, which
    /// `insert_query` names); the deduplication token stays that of `rows`.
    std::string_view encoded = {};
};

/// What one INSERT came to.
struct SendResult {
    InsertOutcome outcome;
    HttpResponse response;
    std::uint64_t sent_bytes = 0;  ///< the request body, after compression
    std::string replica;           ///< the server's URL (no credentials); empty if none was tried
};

/// Sends INSERTs to ClickHouse. The flusher depends on this interface only,
/// so that its unit tests can script every answer. Not thread-safe: each
/// flusher thread has its own.
class Sender {
  public:
    virtual ~Sender() = default;
    virtual SendResult send(const InsertCall& call) = 0;
};

/// Makes one Sender per flusher thread (each with its own connection).
using SenderFactory = std::function<std::unique_ptr<Sender>()>;

}  // namespace chgate::clickhouse
