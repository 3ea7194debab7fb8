#pragma once

#include <string>

#include "clickhouse/Compressor.hpp"
#include "clickhouse/HttpClient.hpp"
#include "clickhouse/Sender.hpp"
#include "config/Config.hpp"

namespace chgate::clickhouse {

class Topology;

/// Sends each INSERT to a replica of its shard (or of the tables without
/// shard_by) that the circuit breakers allow, over this
/// sender's own keep-alive connection, and tells the replica set how it went.
class ReplicaSender final : public Sender {
  public:
    /// `topology` outlives the sender.
    ReplicaSender(config::ClickHouseConfig cfg, Topology& topology);

    SendResult send(const InsertCall& call) override;

    /// A factory for the flusher: one ReplicaSender per thread.
    static SenderFactory factory(config::ClickHouseConfig cfg, Topology& topology);

  private:
    const config::ClickHouseConfig cfg_;
    Topology& topology_;
    HttpClient client_;
    Compressor compressor_;
    std::string scratch_;  // the compressed body, reused between INSERTs
};

}  // namespace chgate::clickhouse
