#include "clickhouse/ReplicaSender.hpp"

#include "clickhouse/InsertRequest.hpp"
#include "clickhouse/ReplicaSet.hpp"

namespace chgate::clickhouse {

ReplicaSender::ReplicaSender(config::ClickHouseConfig cfg, Topology& topology)
    : cfg_(std::move(cfg)),
      topology_(topology),
      client_({cfg_.user, cfg_.password}, cfg_.timeout, cfg_.tls) {}

SenderFactory ReplicaSender::factory(config::ClickHouseConfig cfg, Topology& topology) {
    return [cfg = std::move(cfg), &topology] {
        return std::make_unique<ReplicaSender>(cfg, topology);
    };
}

SendResult ReplicaSender::send(const InsertCall& call) {
    SendResult r;
    // Held for the attempt: the cluster's shards may change meanwhile.
    const auto replicas = topology_.replicas_for(call.shard);
    auto* replica = replicas ? replicas->pick(CircuitBreaker::Clock::now()) : nullptr;
    if (replica == nullptr) {
        r.response.transport_error =
            !replicas         ? "the cluster has no shard " + std::to_string(call.shard)
            : call.shard == 0 ? "no ClickHouse replica can take inserts now (every circuit "
                                "breaker is open)"
                              : "no replica of shard " + std::to_string(call.shard) +
                                    " can take inserts now (every circuit breaker is open)";
        r.outcome = classify(r.response, &cfg_.error_classes);
        return r;
    }
    r.replica = replica->url;
    const auto server = replica->monitor.info();
    // 18.16 refuses zstd bodies (Code 89); fall back to gzip where the probe says so.
    auto method = call.compression;
    if (method == config::Compression::zstd && !server->zstd_body)
        method = config::Compression::gzip;
    try {
        const auto payload = call.encoded.empty() ? call.rows : call.encoded;
        const char* encoding = compressor_.compress(method, payload, scratch_);
        const std::string_view body = encoding != nullptr ? std::string_view(scratch_) : payload;
        r.sent_bytes = body.size();
        r.response = client_.post(build_insert_url(replica->url, call.insert_query, *server,
                                                   dedup_token(call.batch_id, call.rows),
                                                   call.distributed, call.skip_unknown_fields),
                                  body, encoding);
    } catch (const std::exception& e) {
        // Only allocation or a library failure lands here; treat it as transient.
        r.response = {};
        r.response.transport_error = std::string("local error: ") + e.what();
    }
    r.outcome = classify(r.response, &cfg_.error_classes);
    // Only server trouble counts against the replica: bad rows or a missing
    // table are answers, from a server that works.
    const bool trouble = r.outcome.error_class == ErrorClass::retry;
    ReplicaSet::report(*replica, trouble, !r.response.transport_ok, r.outcome.message);
    if (trouble && topology_.server_count() > 1) {
        r.outcome.message = replica->url + ": " + r.outcome.message;
    }
    return r;
}

}  // namespace chgate::clickhouse
