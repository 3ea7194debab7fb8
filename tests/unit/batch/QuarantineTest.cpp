#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "batch/BatchManager.hpp"
#include "batch/Quarantine.hpp"
#include "config/ConfigLoader.hpp"
#include "flush/FlushQueue.hpp"
#include "store/DeadLetters.hpp"
#include "store/Storage.hpp"
#include "support/TempDir.hpp"

using namespace chgate;
using namespace chgate::batch;

namespace {

struct Rig {
    explicit Rig(const std::string& yaml)
        : config(
              config::load_config_text(
                  yaml, "t.yaml", [](const std::string&) { return std::optional<std::string>(); })
                  .config),
          storage({dir.path, {}, std::chrono::seconds(1)}),
          budget(config->batching.max_memory),
          rate(Clock::now()),
          manager(config, queue, budget, rate, nullptr),
          quarantine(manager) {}

    // Refused rows of `table`, in the dead letters.
    void dead_letter(const std::string& table, std::vector<std::string> rows) {
        std::vector<store::DeadRow> dead;
        for (const auto& r : rows)
            dead.push_back({r, 27, "Cannot parse input: (while read the value of key id)"});
        std::string error;
        REQUIRE(storage.dead_letters().append({"default", table, {}, 0}, 42, dead, error));
    }
    // The quarantine rows buffered so far, parsed.
    std::vector<nlohmann::json> quarantined(const std::string& table) {
        manager.seal_all(flush::FlushReason::shutdown);
        std::vector<nlohmann::json> out;
        for (auto& b : queue.take_all()) {
            if (b.owner->target().files.table != table) continue;
            std::istringstream lines(b.rows);
            for (std::string line; std::getline(lines, line);)
                out.push_back(nlohmann::json::parse(line));
        }
        return out;
    }

    test::TempDir dir{"chgate-quarantine"};
    config::ConfigPtr config;
    store::Storage storage;
    flush::FlushQueue queue;
    MemoryBudget budget;
    core::RateWindow rate;
    BatchManager manager;
    Quarantine quarantine;
};

}  // namespace

TEST_CASE("quarantine rows carry the columns of the quarantine table, the event as sent") {
    std::string out;
    append_quarantine_json(out, std::chrono::system_clock::time_point(std::chrono::seconds(7)),
                           "events", "12", "app", QuarantineStage::insert,
                           {R"({"id": "x\ny"})", 27, "id", "Cannot \"parse\""});
    const auto j = nlohmann::json::parse(out);
    CHECK(j["time"] == 7);
    CHECK(j["table"] == "events");
    CHECK(j["batch_id"] == "12");
    CHECK(j["token"] == "app");
    CHECK(j["stage"] == "insert");
    CHECK(j["code"] == 27);
    CHECK(j["field"] == "id");
    CHECK(j["error"] == "Cannot \"parse\"");
    CHECK(j["row"] == R"({"id": "x\ny"})");
    CHECK(out.find('\n') == std::string::npos);  // one NDJSON line
    CHECK_THAT(quarantine_table_ddl("db", "events_quarantine"),
               Catch::StartsWith("CREATE TABLE IF NOT EXISTS `db`.`events_quarantine` (time "
                                 "DateTime, table String, batch_id String, token String, stage "
                                 "String, code Int32, field String, error String, row String)"));
}

TEST_CASE("dead letters move into the quarantine table, or stay when it cannot take them") {
    Rig rig(R"y(
batching:
  tables:
    events: {on_invalid: quarantine}
    events_quarantine: {max_memory: 4KiB}
)y");
    auto table = rig.manager.registry().find_table("events");
    REQUIRE(table);
    // Too large for the quarantine table: put back, counted as before.
    rig.dead_letter("events", {R"({"id": "a"})", "{\"id\": \"" + std::string(5000, 'x') + "\"}"});
    std::string error;
    CHECK(rig.quarantine.take_dead_letters(*table, rig.storage.dead_letters(), error) == 0);
    CHECK_THAT(error, Catch::Contains("max_memory"));
    CHECK(rig.storage.dead_letters().counts().at("default.events").rows == 2);
    CHECK(rig.quarantined("events_quarantine").empty());
    // Rows that fit move, and the files go.
    Rig rig2(R"y(
batching:
  tables:
    events: {on_invalid: quarantine}
)y");
    auto t2 = rig2.manager.registry().find_table("events");
    rig2.dead_letter("events", {R"({"id": "a"})", R"({"id": "b"})"});
    CHECK(rig2.quarantine.take_dead_letters(*t2, rig2.storage.dead_letters(), error) == 2);
    CHECK_FALSE(rig2.storage.dead_letters().counts().contains("default.events"));
    const auto rows = rig2.quarantined("events_quarantine");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0]["stage"] == "insert");
    CHECK(rows[0]["batch_id"] == "42");
    CHECK(rows[0]["code"] == 27);
    CHECK(rows[0]["field"] == "id");
    CHECK(rows[1]["row"] == R"({"id": "b"})");
    CHECK(t2->stats().rows_quarantined_insert.load() == 2);
}
