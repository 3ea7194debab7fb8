#include <catch2/catch.hpp>

#include "schema/TableDdl.hpp"

using namespace chgate;

TEST_CASE("a create: declaration becomes one CREATE TABLE IF NOT EXISTS, ON CLUSTER if named") {
    config::TableCreate c;
    c.columns = {{"id", "UInt64"}, {"ts", "DateTime"}};
    c.order_by = "id";
    c.partition_by = "toYYYYMM(ts)";
    CHECK(schema::create_table_sql("db", "t", c, "") ==
          "CREATE TABLE IF NOT EXISTS `db`.`t` (`id` UInt64, `ts` DateTime) ENGINE = MergeTree() "
          "PARTITION BY toYYYYMM(ts) ORDER BY id");
    c.order_by.clear();
    c.partition_by.clear();
    CHECK(schema::create_table_sql("db", "t_local", c, "events_cluster") ==
          "CREATE TABLE IF NOT EXISTS `db`.`t_local` ON CLUSTER `events_cluster` (`id` UInt64, "
          "`ts` DateTime) ENGINE = MergeTree() ORDER BY tuple()");
    c.engine = "Memory";
    CHECK(schema::create_table_sql("db", "t", c, "") ==
          "CREATE TABLE IF NOT EXISTS `db`.`t` (`id` UInt64, `ts` DateTime) ENGINE = Memory");
}
