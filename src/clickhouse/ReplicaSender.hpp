#pragma once

#include <string>

#include "clickhouse/Compressor.hpp"
#include "clickhouse/HttpClient.hpp"
#include "clickhouse/Sender.hpp"
#include "config/Config.hpp"

namespace chgate::clickhouse {

class ReplicaSet;

/// Sends each INSERT to a replica the circuit breakers allow, over this
/// sender's own keep-alive connection, and tells the replica set how it went.
class ReplicaSender final : public Sender {
  public:
    /// `replicas` outlives the sender.
    ReplicaSender(config::ClickHouseConfig cfg, ReplicaSet& replicas);

    SendResult send(const InsertCall& call) override;

    /// A factory for the flusher: one ReplicaSender per thread.
    static SenderFactory factory(config::ClickHouseConfig cfg, ReplicaSet& replicas);

  private:
    const config::ClickHouseConfig cfg_;
    ReplicaSet& replicas_;
    HttpClient client_;
    Compressor compressor_;
    std::string scratch_;  // the compressed body, reused between INSERTs
};

}  // namespace chgate::clickhouse
