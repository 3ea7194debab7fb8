-- The time-series (metrics) example's tables for ClickHouse 18.16.
CREATE TABLE IF NOT EXISTS cost_metrics_ts (
    timestamp DateTime, customer_id String, cloud_provider String, service_name String,
    instance_id String, instance_type String, region String, cost_per_hour Float64,
    utilization_percent Float64, is_spot UInt8, is_reserved UInt8
) ENGINE = MergeTree() PARTITION BY toYYYYMM(timestamp) ORDER BY (customer_id, timestamp);

CREATE TABLE IF NOT EXISTS performance_metrics_ts (
    timestamp DateTime, customer_id String, service_id String, service_type String,
    model_name String, request_id String, latency_ms Float64, throughput_tokens_per_sec Float64,
    gpu_utilization Float64, kv_cache_utilization Float64, batch_size UInt32,
    prompt_tokens UInt32, completion_tokens UInt32, total_tokens UInt32
) ENGINE = MergeTree() PARTITION BY toYYYYMM(timestamp) ORDER BY (customer_id, service_id, timestamp);

CREATE TABLE IF NOT EXISTS resource_metrics_ts (
    timestamp DateTime, customer_id String, instance_id String, instance_type String,
    gpu_index UInt8, gpu_utilization Float64, gpu_memory_used_mb Float64,
    gpu_memory_total_mb Float64, gpu_temperature Float64, cpu_utilization Float64,
    memory_used_gb Float64, memory_total_gb Float64, network_rx_mbps Float64, network_tx_mbps Float64
) ENGINE = MergeTree() PARTITION BY toYYYYMM(timestamp) ORDER BY (customer_id, instance_id, timestamp);

CREATE TABLE IF NOT EXISTS quality_metrics_ts (
    timestamp DateTime, customer_id String, service_id String, request_id String,
    model_name String, relevance_score Float64, coherence_score Float64, factuality_score Float64,
    hallucination_detected UInt8, toxicity_score Float64, overall_quality_score Float64,
    prompt_hash String, latency_ms Float64
) ENGINE = MergeTree() PARTITION BY toYYYYMM(timestamp) ORDER BY (customer_id, service_id, timestamp);
