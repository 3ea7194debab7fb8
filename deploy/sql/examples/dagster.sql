-- The Dagster event-log example's storage for ClickHouse 18.16 (no DateTime64 yet: DateTime;
-- String for LowCardinality).
CREATE TABLE IF NOT EXISTS event_logs (
    id UInt64, run_id String, timestamp DateTime, event String, dagster_event_type String,
    asset_key String, partition_key String, step_key String, event_metadata String
) ENGINE = MergeTree() PARTITION BY toYYYYMM(timestamp) ORDER BY (run_id, timestamp, id);

CREATE TABLE IF NOT EXISTS asset_keys (
    asset_key String, last_materialization_timestamp DateTime,
    last_materialization_storage_id UInt64, last_run_id String, last_materialization_event String
) ENGINE = ReplacingMergeTree(last_materialization_timestamp) ORDER BY asset_key;

-- On a newer server (21.x and later) the timestamps keep their fraction and the repeated strings
-- their dictionary; give chgate's create: these types there:
--   timestamp DateTime64(6), dagster_event_type LowCardinality(String), asset_key LowCardinality(String),
--   last_materialization_timestamp DateTime64(6)
