#include "config/ConfigPrinter.hpp"

#include <yaml-cpp/yaml.h>

namespace chgate::config {
namespace {

void emit_table(YAML::Emitter& out, const TableConfig& t) {
    out << YAML::BeginMap;
    out << YAML::Key << "strategy" << YAML::Value << t.strategy_name;
    out << YAML::Key << "max_batch_size" << YAML::Value << t.max_batch_size;
    out << YAML::Key << "max_batch_time" << YAML::Value << format_duration(t.max_batch_time);
    out << YAML::Key << "max_memory" << YAML::Value << format_size(t.max_memory);
    out << YAML::Key << "max_age" << YAML::Value
        << (t.max_age == Duration{0} ? std::string("auto") : format_duration(t.max_age));
    out << YAML::Key << "priority" << YAML::Value << t.priority;
    out << YAML::Key << "compression" << YAML::Value << to_string(t.compression);
    out << YAML::Key << "retry_attempts" << YAML::Value << t.retry_attempts;
    out << YAML::Key << "ack" << YAML::Value << to_string(t.ack);
    out << YAML::Key << "failure_strategy" << YAML::Value << to_string(t.failure_strategy);
    out << YAML::Key << "min_batch_size" << YAML::Value << t.min_batch_size;
    out << YAML::Key << "target_latency" << YAML::Value << format_duration(t.target_latency);
    out << YAML::EndMap;
}

}  // namespace

std::string print_effective_config(const Config& c) {
    YAML::Emitter out;
    out << YAML::BeginMap;

    out << YAML::Key << "server" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "listen" << YAML::Value << YAML::DoubleQuoted << c.server.listen;
    out << YAML::Key << "threads" << YAML::Value << c.server.threads;
    out << YAML::Key << "max_body_size" << YAML::Value << format_size(c.server.max_body_size);
    out << YAML::Key << "idle_timeout" << YAML::Value << format_duration(c.server.idle_timeout);
    out << YAML::Key << "header_timeout" << YAML::Value << format_duration(c.server.header_timeout);
    out << YAML::Key << "body_timeout" << YAML::Value << format_duration(c.server.body_timeout);
    out << YAML::Key << "max_header_size" << YAML::Value << format_size(c.server.max_header_size);
    out << YAML::Key << "max_connections" << YAML::Value << c.server.max_connections;
    out << YAML::Key << "max_connections_per_ip" << YAML::Value << c.server.max_connections_per_ip;
    out << YAML::Key << "max_inflight_bytes" << YAML::Value
        << format_size(c.server.max_inflight_bytes);
    out << YAML::Key << "allow_from" << YAML::Value << YAML::Flow << c.server.allow_from;
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "cert_file" << YAML::Value << YAML::DoubleQuoted << c.server.tls.cert_file;
    out << YAML::Key << "key_file" << YAML::Value << YAML::DoubleQuoted << c.server.tls.key_file;
    out << YAML::Key << "client_ca_file" << YAML::Value << YAML::DoubleQuoted
        << c.server.tls.client_ca_file;
    out << YAML::EndMap;
    out << YAML::Key << "idempotency_window" << YAML::Value
        << format_duration(c.server.idempotency_window);
    out << YAML::Key << "idempotency_max_keys" << YAML::Value << c.server.idempotency_max_keys;
    out << YAML::Key << "commit_timeout" << YAML::Value << format_duration(c.server.commit_timeout);
    out << YAML::Key << "shutdown_timeout" << YAML::Value
        << format_duration(c.server.shutdown_timeout);
    out << YAML::EndMap;

    const auto& ch = c.clickhouse;
    out << YAML::Key << "clickhouse" << YAML::Value << YAML::BeginMap;
    if (ch.urls.size() > 1) {
        out << YAML::Key << "urls" << YAML::Value << YAML::BeginSeq;
        for (const auto& u : ch.urls)
            out << YAML::DoubleQuoted << u;
        out << YAML::EndSeq;
    } else {
        out << YAML::Key << "url" << YAML::Value << YAML::DoubleQuoted << ch.url;
    }
    out << YAML::Key << "circuit_breaker" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "failures" << YAML::Value << ch.breaker_failures;
    out << YAML::Key << "cooldown" << YAML::Value << format_duration(ch.breaker_cooldown);
    out << YAML::EndMap;
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "ca_file" << YAML::Value << YAML::DoubleQuoted << ch.tls.ca_file;
    out << YAML::Key << "cert_file" << YAML::Value << YAML::DoubleQuoted << ch.tls.cert_file;
    out << YAML::Key << "key_file" << YAML::Value << YAML::DoubleQuoted << ch.tls.key_file;
    out << YAML::Key << "verify" << YAML::Value << ch.tls.verify;
    out << YAML::EndMap;
    out << YAML::Key << "database" << YAML::Value << ch.database;
    out << YAML::Key << "user" << YAML::Value << ch.user;
    out << YAML::Key << "password" << YAML::Value << YAML::DoubleQuoted
        << (ch.password.empty() ? "" : "********");
    out << YAML::Key << "timeout" << YAML::Value << format_duration(ch.timeout);
    out << YAML::Key << "max_concurrent_inserts" << YAML::Value << ch.max_concurrent_inserts;
    out << YAML::Key << "probe_interval" << YAML::Value << format_duration(ch.probe_interval);
    out << YAML::Key << "hold_probe_interval" << YAML::Value
        << format_duration(ch.hold_probe_interval);
    out << YAML::Key << "hold_max" << YAML::Value << format_duration(ch.hold_max);
    out << YAML::Key << "max_inserts_per_batch" << YAML::Value << ch.max_inserts_per_batch;
    out << YAML::Key << "retry" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "initial" << YAML::Value << format_duration(ch.retry_initial);
    out << YAML::Key << "max" << YAML::Value << format_duration(ch.retry_max);
    out << YAML::Key << "multiplier" << YAML::Value << ch.retry_multiplier;
    out << YAML::EndMap;
    out << YAML::Key << "error_classes" << YAML::Value << YAML::BeginMap;
    for (const auto& [code, action] : ch.error_classes) {
        out << YAML::Key << code << YAML::Value << to_string(action);
    }
    out << YAML::EndMap;
    out << YAML::Key << "settings" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : ch.settings) {
        out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
    }
    out << YAML::EndMap << YAML::EndMap;

    const auto& b = c.batching;
    out << YAML::Key << "batching" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "enabled" << YAML::Value << b.enabled;
    out << YAML::Key << "max_memory" << YAML::Value << format_size(b.max_memory);
    out << YAML::Key << "unknown_tables" << YAML::Value << to_string(b.unknown_tables);
    out << YAML::Key << "max_tables" << YAML::Value << b.max_tables;
    out << YAML::Key << "max_buffers_per_table" << YAML::Value << b.max_buffers_per_table;
    out << YAML::Key << "idle_buffer_ttl" << YAML::Value << format_duration(b.idle_buffer_ttl);
    out << YAML::Key << "defaults" << YAML::Value;
    emit_table(out, b.defaults);
    out << YAML::Key << "tables" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, t] : b.tables) {
        out << YAML::Key << name << YAML::Value;
        emit_table(out, t);
    }
    out << YAML::EndMap << YAML::EndMap;

    out << YAML::Key << "storage" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "dir" << YAML::Value << YAML::DoubleQuoted << c.storage.dir;
    out << YAML::Key << "fsync" << YAML::Value << to_string(c.storage.fsync);
    out << YAML::Key << "fsync_interval" << YAML::Value
        << format_duration(c.storage.fsync_interval);
    out << YAML::Key << "segment_size" << YAML::Value << format_size(c.storage.segment_size);
    out << YAML::Key << "preallocate" << YAML::Value << format_size(c.storage.preallocate);
    out << YAML::Key << "max_disk" << YAML::Value << format_size(c.storage.max_disk);
    out << YAML::Key << "spool_replay_rate" << YAML::Value
        << format_size(c.storage.spool_replay_rate);
    out << YAML::Key << "dead_letter_retention" << YAML::Value
        << format_duration(c.storage.dead_letter_retention);
    out << YAML::EndMap;

    out << YAML::Key << "readiness" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "held_tables" << YAML::Value << c.readiness.held_tables;
    out << YAML::Key << "max_lag" << YAML::Value << format_duration(c.readiness.max_lag);
    out << YAML::Key << "max_spool_bytes" << YAML::Value
        << format_size(c.readiness.max_spool_bytes);
    out << YAML::EndMap;

    out << YAML::Key << "auth" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "allow_anonymous" << YAML::Value << c.auth.allow_anonymous;
    out << YAML::Key << "tokens" << YAML::Value << YAML::BeginSeq;
    for (const auto& t : c.auth.tokens) {
        out << YAML::Flow << YAML::BeginMap;
        out << YAML::Key << "name" << YAML::Value << t.name;
        // Never the token: where it came from, and that it is set.
        out << YAML::Key << "token" << YAML::Value << YAML::DoubleQuoted
            << ("******** (" + t.source + ")");
        out << YAML::Key << "tables" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const auto& g : t.tables)
            out << g;
        out << YAML::EndSeq;
        out << YAML::Key << "max_events_per_second" << YAML::Value << t.max_events_per_second;
        out << YAML::Key << "max_bytes_per_second" << YAML::Value
            << format_size(t.max_bytes_per_second);
        out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;

    out << YAML::Key << "admin" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "token" << YAML::Value << YAML::DoubleQuoted
        << (c.admin.token ? "********" : "");
    out << YAML::Key << "allow_from" << YAML::Value << YAML::Flow << c.admin.allow_from;
    out << YAML::EndMap;

    out << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "token" << YAML::Value << YAML::DoubleQuoted
        << (c.metrics.token ? "********" : "");
    out << YAML::EndMap;

    out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "level" << YAML::Value << to_string(c.log.level);
    out << YAML::Key << "rate_limit" << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "lines" << YAML::Value << c.log.rate_limit_lines;
    out << YAML::Key << "interval" << YAML::Value << format_duration(c.log.rate_limit_interval);
    out << YAML::EndMap;
    out << YAML::EndMap;

    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

}  // namespace chgate::config
