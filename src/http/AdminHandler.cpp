#include "http/AdminHandler.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "batch/BatchManager.hpp"
#include "batch/DeadLetterReplay.hpp"
#include "config/Units.hpp"
#include "core/TableName.hpp"
#include "http/ApiError.hpp"
#include "http/UrlQuery.hpp"
#include "ingest/RowCheck.hpp"
#include "store/DeadLetters.hpp"
#include "store/Storage.hpp"
#include "util/Json.hpp"
#include "util/ThreadName.hpp"

namespace chgate::http {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kDeadLetter = "/dead-letter";

}  // namespace

AdminHandler::AdminHandler(batch::BatchManager& manager, store::Storage* storage)
    : manager_(manager), storage_(storage) {}

AdminHandler::~AdminHandler() {
    stop();
}

void AdminHandler::stop() {
    stopping_.store(true);
    std::thread worker;
    {
        LockGuard lock(mutex_);
        worker.swap(worker_);
    }
    if (worker.joinable()) worker.join();
}

namespace {
// A unix time, or ISO 8601 with a zone ("2026-12-03T10:00:00Z"), as unix seconds.
bool parse_time(std::string_view text, std::int64_t& out) {
    std::string digits;
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
        digits = text;
    } else {
        std::string quoted = "\"", scratch;
        quoted.append(text).push_back('"');
        if (text.find_first_of("\"\\") != std::string_view::npos ||
            !ingest::coerce_value(ingest::parse_column_type("DateTime"), quoted, {}, scratch,
                                  digits) ||
            digits.find_first_not_of("0123456789") != std::string::npos) {
            return false;
        }
    }
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return ec == std::errc{} && end == digits.data() + digits.size() && !digits.empty();
}

// 405 with Allow unless the request uses `allowed` (GET or POST).
std::optional<Response> wrong_method(const Request& req, bhttp::verb allowed) {
    if (req.method() == allowed) return std::nullopt;
    const char* name = allowed == bhttp::verb::get ? "GET" : "POST";
    auto r = error_response(ApiError::method_not_allowed, std::string("use ") + name);
    r.allow = name;
    return r;
}
}  // namespace

std::optional<Response> AdminHandler::handle(const Request& req, std::string_view path,
                                             const Defer& defer) {
    if (path == "/reload" && reload_) {
        if (auto wrong = wrong_method(req, bhttp::verb::post)) return wrong;
        return answer_from_thread(defer, [this] { return reload(); });
    }
    if (path == "/drain" && drain_) {
        if (auto wrong = wrong_method(req, bhttp::verb::post)) return wrong;
        return drain(split_target(req.target()).query, defer);
    }
    constexpr std::string_view kFlush = "/flush";
    if (path == kFlush || path.starts_with(std::string(kFlush) + "/")) {
        if (auto wrong = wrong_method(req, bhttp::verb::post)) return wrong;
        return flush(path == kFlush ? std::string_view() : path.substr(kFlush.size() + 1));
    }
    constexpr std::string_view kQuarantine = "/quarantine/";
    constexpr std::string_view kReplay = "/replay";
    if (path.starts_with(kQuarantine) && path.ends_with(kReplay) &&
        path.size() > kQuarantine.size() + kReplay.size() && quarantine_replay_) {
        if (auto wrong = wrong_method(req, bhttp::verb::post)) return wrong;
        return replay_quarantine(
            path.substr(kQuarantine.size(), path.size() - kQuarantine.size() - kReplay.size()),
            split_target(req.target()).query, defer);
    }
    if (storage_ == nullptr) return error_response(ApiError::not_found, "no storage configured");
    if (path == kDeadLetter) {
        if (auto wrong = wrong_method(req, bhttp::verb::get)) return wrong;
        return dead_letters();
    }
    if (path.starts_with(std::string(kDeadLetter) + "/") && path.ends_with(kReplay)) {
        if (auto wrong = wrong_method(req, bhttp::verb::post)) return wrong;
        const auto table = path.substr(kDeadLetter.size() + 1,
                                       path.size() - kDeadLetter.size() - 1 - kReplay.size());
        return replay(table, defer);
    }
    return error_response(ApiError::not_found,
                          "no such admin path: " + client_quote("/admin" + std::string(path)));
}

Response AdminHandler::flush(std::string_view name) {
    core::TableName t;
    if (!name.empty()) {
        if (!core::parse_table_name(name, t)) {
            return error_response(ApiError::bad_request,
                                  client_quote(name) + " is not a table name");
        }
        if (t.database.empty())
            t.database = manager_.registry().startup_config().clickhouse.database;
    }
    const auto [batches, rows] =
        manager_.seal_table(t.database, t.table, flush::FlushReason::admin);
    Response r;
    r.status = bhttp::status::accepted;
    r.body = dump_json(nlohmann::ordered_json{
        {"table", name.empty() ? nlohmann::ordered_json(nullptr)
                               : nlohmann::ordered_json(t.database + "." + t.table)},
        {"batches", batches},
        {"rows", rows}});
    return r;
}

Response AdminHandler::reload() {
    const auto report = reload_();
    if (!report.ok) {
        return error_response(ApiError::bad_request,
                              "the configuration was not reloaded: " + report.error);
    }
    Response r;
    r.body = dump_json(nlohmann::ordered_json{{"reloaded", true},
                                              {"retuned", report.retuned},
                                              {"retired", report.retired},
                                              {"restart_needed", report.restart_needed},
                                              {"warnings", report.warnings}});
    return r;
}

std::optional<Response> AdminHandler::drain(std::string_view url_query, const Defer& defer) {
    auto timeout = std::chrono::milliseconds(std::chrono::minutes(5));
    if (const auto text = query_param(url_query, "timeout")) {
        const auto parsed = config::parse_duration(*text);
        if (!parsed || *parsed > std::chrono::hours(24)) {
            return error_response(ApiError::bad_request,
                                  "timeout must be a duration up to 24h (\"90s\", \"5m\"), not " +
                                      client_quote(*text));
        }
        timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
    }
    return answer_from_thread(defer, [this, timeout] {
        const auto left = drain_(timeout);
        Response r;
        r.status = left.drained ? bhttp::status::ok : bhttp::status::gateway_timeout;
        nlohmann::ordered_json body = {{"drained", left.drained}};
        if (left.drained) {
            body["stopping"] = true;
        } else {
            body["error"] =
                "not drained: ClickHouse has not taken everything yet, and the timeout came (or "
                "chgate is stopping); chgate still refuses new events; POST /admin/drain again "
                "to wait more";
            body["rows_in_memory"] = left.rows_in_memory;
            body["spool_batches"] = left.spool_batches;
            body["spool_rows"] = left.spool_rows;
            body["spool_bytes"] = left.spool_bytes;
            body["replaying"] = left.replaying;
        }
        r.body = dump_json(body);
        return r;
    });
}

Response AdminHandler::dead_letters() const {
    nlohmann::ordered_json tables = nlohmann::ordered_json::object();
    for (const auto& [name, c] : storage_->dead_letters().counts()) {
        tables[name] = {{"rows", c.rows}, {"bytes", c.bytes}};
    }
    Response r;
    r.body = dump_json(nlohmann::ordered_json{{"dir", storage_->dead_letters().dir().string()},
                                              {"tables", tables}});
    return r;
}

std::optional<Response> AdminHandler::replay(std::string_view name, const Defer& defer) {
    core::TableName t;
    if (!core::parse_table_name(name, t)) {
        return error_response(ApiError::bad_request, client_quote(name) + " is not a table name");
    }
    if (t.database.empty()) t.database = manager_.registry().startup_config().clickhouse.database;
    return answer_from_thread(defer, [this, t] {
        const auto result = batch::replay_dead_letters(manager_, storage_->dead_letters(),
                                                       t.database, t.table, stopping_, progress_);
        nlohmann::ordered_json body = {{"table", t.database + "." + t.table},
                                       {"replayed", result.rows},
                                       {"committed", result.committed}};
        if (!result.error.empty()) body["error"] = result.error;
        Response r;
        r.status = result.error.empty() ? bhttp::status::ok : bhttp::status::service_unavailable;
        r.body = dump_json(body);
        return r;
    });
}

std::optional<Response> AdminHandler::replay_quarantine(std::string_view name,
                                                        std::string_view url_query,
                                                        const Defer& defer) {
    auto table = manager_.registry().find_table(name);
    if (!table) {
        return error_response(ApiError::not_found, "no table " + client_quote(name));
    }
    if (table->config()->on_invalid != config::OnInvalid::quarantine) {
        return error_response(
            ApiError::bad_request,
            "table " + table->name() + " does not quarantine its bad events (on_invalid: reject)");
    }
    batch::QuarantineFilter filter;
    if (const auto since = query_param(url_query, "since")) {
        std::int64_t t = 0;
        if (!parse_time(*since, t)) {
            return error_response(
                ApiError::bad_request,
                "since must be a unix time or YYYY-MM-DDThh:mm:ssZ, not " + client_quote(*since));
        }
        filter.since = t;
    }
    if (const auto code = query_param(url_query, "code")) {
        int c = 0;
        const auto [end, ec] = std::from_chars(code->data(), code->data() + code->size(), c);
        if (ec != std::errc{} || end != code->data() + code->size()) {
            return error_response(ApiError::bad_request,
                                  "code must be an integer, not " + client_quote(*code));
        }
        filter.code = c;
    }
    if (const auto field = query_param(url_query, "field")) {
        if (field->size() > 256) {
            return error_response(ApiError::bad_request, "field is over 256 bytes");
        }
        filter.field = std::string(*field);
    }
    return answer_from_thread(defer, [this, table, filter] {
        const auto result = quarantine_replay_(*table, filter, stopping_);
        nlohmann::ordered_json body = {
            {"table", table->name()},        {"replayed", result.rows},
            {"sent", result.sent},           {"refused", result.refused},
            {"committed", result.committed}, {"removed", result.removed}};
        if (!result.error.empty()) body["error"] = result.error;
        Response r;
        r.status = result.error.empty() ? bhttp::status::ok : bhttp::status::service_unavailable;
        r.body = dump_json(body);
        return r;
    });
}

std::optional<Response> AdminHandler::answer_from_thread(const Defer& defer,
                                                         std::function<Response()> work) {
    LockGuard lock(mutex_);
    if (worker_.joinable()) {
        if (!worker_done_->load()) {
            return error_response(ApiError::conflict,
                                  "another admin request (a reload or a replay) is still "
                                  "running; retry when it is done");
        }
        worker_.join();
    }
    auto reply = defer(std::chrono::milliseconds{0}, Response{});
    worker_done_ = std::make_shared<std::atomic<bool>>(false);
    worker_ = std::thread([reply, done = worker_done_, work = std::move(work)] {
        set_thread_name("chgate-admin");
        reply->send(work());
        done->store(true);
    });
    return std::nullopt;
}

}  // namespace chgate::http
