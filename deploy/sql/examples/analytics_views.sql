-- The analytics example's materialized views, for ClickHouse 18.16. Apply after analytics.sql
-- (chgate's clickhouse.create_tables runs both, in order). They fill on every INSERT into events
-- and orders from then on. Counts and sums are summed by SummingMergeTree; distinct users are
-- kept as uniq states, which SummingMergeTree and AggregatingMergeTree merge: read them with
-- uniqMerge(), countMerge(), sumMerge(), avgMerge(). Newer servers take the same statements.

-- Hourly activity per event type.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_hourly_events
ENGINE = SummingMergeTree() PARTITION BY toYYYYMM(event_date) ORDER BY (event_date, event_hour, event_type)
AS SELECT
    toDate(event_timestamp) AS event_date, toHour(event_timestamp) AS event_hour, event_type,
    count() AS event_count, uniqState(user_id) AS unique_users, sum(revenue) AS total_revenue
FROM events GROUP BY event_date, event_hour, event_type;

-- The conversion funnel per user and day, as aggregate states.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_user_funnel
ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(event_date) ORDER BY (user_id, event_date)
AS SELECT
    user_id, toDate(event_timestamp) AS event_date, countState() AS total_events,
    sumState(toUInt64(event_type = 'page_view')) AS page_views,
    sumState(toUInt64(event_type = 'add_to_cart')) AS carts,
    sumState(toUInt64(event_type = 'purchase')) AS purchases
FROM events GROUP BY user_id, event_date;

-- Per country and day.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_country_stats
ENGINE = SummingMergeTree() PARTITION BY toYYYYMM(event_date) ORDER BY (country, event_date)
AS SELECT
    country, toDate(event_timestamp) AS event_date, count() AS event_count,
    uniqState(user_id) AS unique_users, sum(revenue) AS revenue,
    sum(toUInt64(event_type = 'purchase')) AS purchase_count
FROM events GROUP BY country, event_date;

-- Each user's activity per day.
CREATE MATERIALIZED VIEW IF NOT EXISTS daily_user_activity
ENGINE = SummingMergeTree() PARTITION BY toYYYYMM(activity_date) ORDER BY (user_id, activity_date)
AS SELECT
    user_id, toDate(event_timestamp) AS activity_date, count() AS activity_count,
    uniqState(event_type) AS event_types_used
FROM events GROUP BY user_id, activity_date;

-- Revenue per product, day and order status (the average as a state: averages do not sum).
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_product_revenue
ENGINE = SummingMergeTree() PARTITION BY toYYYYMM(order_date) ORDER BY (product_id, order_date, status)
AS SELECT
    product_id, toDate(order_timestamp) AS order_date, status, count() AS order_count,
    sum(amount) AS total_revenue, sum(quantity) AS total_quantity, avgState(amount) AS avg_order_value
FROM orders GROUP BY product_id, order_date, status;
