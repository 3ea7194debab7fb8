-- The metrics example's retention, for ClickHouse 19.6 and newer (18.16 has no TTL and refuses
-- these statements; chgate's example config does not apply this file). Raw series are kept 90
-- days, the hourly rollups two years.
ALTER TABLE cost_metrics_ts MODIFY TTL timestamp + INTERVAL 90 DAY;
ALTER TABLE performance_metrics_ts MODIFY TTL timestamp + INTERVAL 90 DAY;
ALTER TABLE resource_metrics_ts MODIFY TTL timestamp + INTERVAL 90 DAY;
ALTER TABLE quality_metrics_ts MODIFY TTL timestamp + INTERVAL 90 DAY;
ALTER TABLE `.inner.performance_metrics_hourly` MODIFY TTL hour + INTERVAL 2 YEAR;
ALTER TABLE `.inner.resource_metrics_hourly` MODIFY TTL hour + INTERVAL 2 YEAR;
ALTER TABLE `.inner.cost_metrics_hourly` MODIFY TTL hour + INTERVAL 2 YEAR;
ALTER TABLE `.inner.quality_metrics_hourly` MODIFY TTL hour + INTERVAL 2 YEAR;
