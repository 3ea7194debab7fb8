#pragma once

#include <string>
#include <string_view>

#include "config/Config.hpp"

namespace chgate::schema {

/// CREATE TABLE IF NOT EXISTS for a table's `create:` declaration, in
/// `database`, ON CLUSTER `cluster` unless it is empty. A MergeTree-family
/// engine without order_by gets ORDER BY tuple().
std::string create_table_sql(std::string_view database, std::string_view table,
                             const config::TableCreate& create, std::string_view cluster);

/// ALTER TABLE `database`.`table` [ON CLUSTER `cluster`] ADD COLUMN `column`
/// type. `column` must be an identifier, `type` a type chgate chose. (No IF
/// NOT EXISTS: 18.16 has none; a column that exists is code 15.)
std::string add_column_sql(std::string_view database, std::string_view table,
                           std::string_view column, std::string_view type,
                           std::string_view cluster);

}  // namespace chgate::schema
