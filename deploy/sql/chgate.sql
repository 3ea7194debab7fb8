-- The tables config/chgate.yaml serves, in ClickHouse 18.16's dialect:
-- String instead of LowCardinality(String), no TTL or projections.

-- Core analytics events (the analytics example's events table).
CREATE TABLE IF NOT EXISTS events (
    event_id String,
    user_id UInt64,
    session_id String,
    event_type String,
    event_timestamp DateTime,
    event_date Date MATERIALIZED toDate(event_timestamp),
    page_url String,
    device_type String,
    browser String,
    country String,
    revenue Float64,
    duration_seconds UInt32
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(event_date)
ORDER BY (event_type, event_date, user_id, event_timestamp);

-- Critical financial data: sent at once (strategy immediate).
CREATE TABLE IF NOT EXISTS payments (
    payment_id String,
    user_id UInt64,
    amount Float64,
    currency String,
    status String,
    created_at DateTime
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (created_at, payment_id);

-- Campaign telemetry, flushed every 5 s (strategy time).
CREATE TABLE IF NOT EXISTS mthreads (
    thread_id String,
    campaign_id String,
    channel String,
    ts DateTime,
    opens UInt32,
    clicks UInt32
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (campaign_id, ts);

-- Event storage: an opaque payload per event.
CREATE TABLE IF NOT EXISTS mstore (
    id String,
    ts DateTime,
    kind String,
    payload String
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (kind, ts);
