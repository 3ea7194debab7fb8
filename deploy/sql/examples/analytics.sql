-- The analytics example's tables for ClickHouse 18.16 (String for LowCardinality; no TTL or projections).
CREATE TABLE IF NOT EXISTS events (
    event_id String, user_id UInt64, session_id String, event_type String,
    event_timestamp DateTime, event_date Date MATERIALIZED toDate(event_timestamp),
    page_url String, device_type String, browser String, country String,
    revenue Float64, duration_seconds UInt32
) ENGINE = MergeTree() PARTITION BY toYYYYMM(event_date)
ORDER BY (event_type, event_date, user_id, event_timestamp);

CREATE TABLE IF NOT EXISTS orders (
    order_id String, user_id UInt64, product_id UInt64, quantity UInt32, amount Float64,
    status String, payment_method String, order_timestamp DateTime,
    order_date Date MATERIALIZED toDate(order_timestamp)
) ENGINE = MergeTree() PARTITION BY toYYYYMM(order_date)
ORDER BY (status, order_date, user_id, order_timestamp);

CREATE TABLE IF NOT EXISTS users (
    user_id UInt64, country String, is_premium UInt8, age UInt8, registered_at DateTime
) ENGINE = MergeTree() ORDER BY (country, is_premium, user_id);

CREATE TABLE IF NOT EXISTS products (
    product_id UInt64, category String, name String, price Float64
) ENGINE = MergeTree() ORDER BY (category, product_id);
