-- The metrics example's hourly rollups, for ClickHouse 18.16. Apply after metrics.sql (chgate's
-- clickhouse.create_tables runs both, in order). Each view keeps aggregate states per customer
-- and hour; read them with countMerge(), sumMerge(), avgMerge(), maxMerge() and
-- quantilesMerge(0.5, 0.95, 0.99)(). Retention: 18.16 has no TTL (19.6 added it), so old months
-- go with ALTER TABLE ... DROP PARTITION (see metrics_ttl.sql for newer servers).

CREATE MATERIALIZED VIEW IF NOT EXISTS performance_metrics_hourly
ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(hour) ORDER BY (customer_id, service_id, model_name, hour)
AS SELECT
    customer_id, service_id, model_name, toStartOfHour(timestamp) AS hour,
    countState() AS requests, avgState(latency_ms) AS avg_latency_ms,
    quantilesState(0.5, 0.95, 0.99)(latency_ms) AS latency_quantiles,
    sumState(toUInt64(total_tokens)) AS tokens, avgState(gpu_utilization) AS avg_gpu_utilization
FROM performance_metrics_ts GROUP BY customer_id, service_id, model_name, hour;

CREATE MATERIALIZED VIEW IF NOT EXISTS resource_metrics_hourly
ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(hour) ORDER BY (customer_id, instance_id, hour)
AS SELECT
    customer_id, instance_id, toStartOfHour(timestamp) AS hour, countState() AS samples,
    avgState(gpu_utilization) AS avg_gpu_utilization, maxState(gpu_temperature) AS max_gpu_temperature,
    avgState(cpu_utilization) AS avg_cpu_utilization, maxState(memory_used_gb) AS max_memory_used_gb
FROM resource_metrics_ts GROUP BY customer_id, instance_id, hour;

CREATE MATERIALIZED VIEW IF NOT EXISTS cost_metrics_hourly
ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(hour) ORDER BY (customer_id, cloud_provider, service_name, hour)
AS SELECT
    customer_id, cloud_provider, service_name, toStartOfHour(timestamp) AS hour,
    countState() AS instances, sumState(cost_per_hour) AS cost,
    avgState(utilization_percent) AS avg_utilization_percent, sumState(toUInt64(is_spot)) AS spot_instances
FROM cost_metrics_ts GROUP BY customer_id, cloud_provider, service_name, hour;

CREATE MATERIALIZED VIEW IF NOT EXISTS quality_metrics_hourly
ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(hour) ORDER BY (customer_id, service_id, model_name, hour)
AS SELECT
    customer_id, service_id, model_name, toStartOfHour(timestamp) AS hour, countState() AS requests,
    avgState(overall_quality_score) AS avg_quality_score,
    sumState(toUInt64(hallucination_detected)) AS hallucinations, maxState(toxicity_score) AS max_toxicity
FROM quality_metrics_ts GROUP BY customer_id, service_id, model_name, hour;
