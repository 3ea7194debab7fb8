#include "schema/TableDdl.hpp"

namespace chgate::schema {

std::string create_table_sql(std::string_view database, std::string_view table,
                             const config::TableCreate& create, std::string_view cluster) {
    std::string sql = "CREATE TABLE IF NOT EXISTS `";
    sql.append(database).append("`.`").append(table).append("`");
    if (!cluster.empty()) sql.append(" ON CLUSTER `").append(cluster).append("`");
    sql += " (";
    for (std::size_t i = 0; i < create.columns.size(); ++i) {
        if (i > 0) sql += ", ";
        sql.append("`")
            .append(create.columns[i].first)
            .append("` ")
            .append(create.columns[i].second);
    }
    sql.append(") ENGINE = ").append(create.engine);
    if (!create.partition_by.empty()) sql.append(" PARTITION BY ").append(create.partition_by);
    if (!create.order_by.empty()) {
        sql.append(" ORDER BY ").append(create.order_by);
    } else if (create.engine.find("MergeTree") != std::string::npos) {
        sql += " ORDER BY tuple()";
    }
    return sql;
}

std::string add_column_sql(std::string_view database, std::string_view table,
                           std::string_view column, std::string_view type,
                           std::string_view cluster) {
    std::string sql = "ALTER TABLE `";
    sql.append(database).append("`.`").append(table).append("`");
    if (!cluster.empty()) sql.append(" ON CLUSTER `").append(cluster).append("`");
    sql.append(" ADD COLUMN `").append(column).append("` ").append(type);
    return sql;
}

}  // namespace chgate::schema
