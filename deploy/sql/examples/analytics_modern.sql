-- The analytics example's tables as a newer ClickHouse (23.x and later) takes them: LowCardinality
-- strings, a year's TTL, and projections by user and by product. 18.16 refuses all three, so
-- chgate's example config applies analytics.sql instead; this file is for servers that have them
-- (not run by the tests, which have 18.16 only). The views of analytics_views.sql work on both.
CREATE TABLE IF NOT EXISTS events (
    event_id String, user_id UInt64, session_id String, event_type LowCardinality(String),
    event_timestamp DateTime, event_date Date MATERIALIZED toDate(event_timestamp),
    page_url String, device_type LowCardinality(String), browser LowCardinality(String),
    country LowCardinality(String), revenue Float64, duration_seconds UInt32,
    PROJECTION by_user (SELECT * ORDER BY user_id, event_timestamp)
) ENGINE = MergeTree() PARTITION BY toYYYYMM(event_date)
ORDER BY (event_type, event_date, user_id, event_timestamp)
TTL event_date + INTERVAL 1 YEAR;

CREATE TABLE IF NOT EXISTS orders (
    order_id String, user_id UInt64, product_id UInt64, quantity UInt32, amount Float64,
    status LowCardinality(String), payment_method LowCardinality(String), order_timestamp DateTime,
    order_date Date MATERIALIZED toDate(order_timestamp),
    PROJECTION by_user (SELECT * ORDER BY user_id, order_timestamp),
    PROJECTION by_product (SELECT * ORDER BY product_id, order_timestamp),
    PROJECTION by_amount (SELECT * ORDER BY amount)
) ENGINE = MergeTree() PARTITION BY toYYYYMM(order_date)
ORDER BY (status, order_date, user_id, order_timestamp)
TTL order_date + INTERVAL 1 YEAR;

CREATE TABLE IF NOT EXISTS users (
    user_id UInt64, country LowCardinality(String), is_premium Bool, age UInt8, registered_at DateTime
) ENGINE = ReplacingMergeTree() ORDER BY (country, is_premium, user_id);

CREATE TABLE IF NOT EXISTS products (
    product_id UInt64, category LowCardinality(String), name String, price Decimal(10, 2)
) ENGINE = ReplacingMergeTree() ORDER BY (category, product_id);
