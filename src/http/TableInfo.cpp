// GET /v1/tables/{table}: what chgate knows of a table's columns, and the
// settings it serves the table with.

#include "batch/BatchManager.hpp"
#include "config/ConfigPrinter.hpp"
#include "http/ApiError.hpp"
#include "http/Router.hpp"
#include "schema/SchemaCache.hpp"
#include "util/Json.hpp"
#include "util/TimeFormat.hpp"

namespace chgate::http {

Response Router::table_info(std::string_view name, const Access::Caller* caller) const {
    const auto table = manager_.registry().find_table(name);
    // A table chgate does not have is not made here, and its name is not echoed
    // past the quote's cut.
    if (!table || table->retired()) {
        return error_response(ApiError::unknown_table,
                              "chgate has no table " + client_quote(name) +
                                  " now (configured, or served by default since an event)");
    }
    if (caller != nullptr) {
        if (auto refused = access_.authorize(*caller, table->database(), table->table())) {
            return *refused;
        }
    }
    const auto cfg = table->config();
    const auto target = table->insert_table();
    nlohmann::ordered_json columns_state = {{"state", "not_read"}};
    if (schemas_ != nullptr) {
        if (const auto known = schemas_->get(table->database(), target)) {
            auto columns = nlohmann::ordered_json::array();
            if (known->columns) {
                for (const auto& c : *known->columns) {
                    columns.push_back(
                        {{"name", c.name}, {"type", c.type}, {"default_kind", c.default_kind}});
                }
            }
            const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(
                schema::SchemaCache::Clock::now() - known->read_steady);
            columns_state = {
                {"state", !known->columns ? "not_read"
                          : known->exists ? "known"
                                          : "missing"},
                {"columns", columns},
                {"read_at", known->columns
                                ? nlohmann::ordered_json(format_utc_seconds(known->read_at))
                                : nlohmann::ordered_json(nullptr)},
                {"age_ms", known->columns ? nlohmann::ordered_json(age.count())
                                          : nlohmann::ordered_json(nullptr)},
                {"error", known->error.empty() ? nlohmann::ordered_json(nullptr)
                                               : nlohmann::ordered_json(known->error)}};
        }
    }
    nlohmann::ordered_json body = {
        {"table", table->name()},  {"database", table->database()},
        {"inserts_into", target},  {"configured", table->configured()},
        {"schema", columns_state}, {"config", config::table_config_json(*cfg)}};
    Response r;
    r.body = dump_json(body);
    return r;
}

}  // namespace chgate::http
