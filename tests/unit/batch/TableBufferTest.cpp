#include <catch2/catch.hpp>

#include "batch/TableBuffer.hpp"
#include "ingest/BodyDecoder.hpp"

using namespace chgate;
using namespace chgate::batch;
using namespace std::chrono_literals;

namespace {

const TimePoint t0 = TimePoint(std::chrono::hours(1000));

struct Fixture {
    explicit Fixture(config::TableConfig cfg, std::uint64_t gateway_limit = 64 * config::kMiB,
                     std::vector<std::string> columns = {})
        : gateway(gateway_limit), rate(t0) {
        table = std::make_shared<Table>("events", "default", "events", cfg, gateway, rate);
        buffer = std::make_shared<TableBuffer>(table, std::move(columns), make_strategy(cfg));
    }

    // Appends; the last batch sealed (if any) lands in `sealed`, all of them in `all`.
    Admission append(std::string_view body, TimePoint now, std::optional<flush::Batch>& sealed) {
        std::vector<core::RowSlice> rows;
        ingest::DecodeError error;
        REQUIRE(ingest::decode_body(body, ingest::BodyFormat::detect, rows, error));
        all.clear();
        const auto a = buffer->append(body, rows, now, all).admission;
        if (!all.empty()) sealed = all.back();
        return a;
    }

    std::vector<flush::Batch> all;

    MemoryBudget gateway;
    core::RateWindow rate;
    std::shared_ptr<Table> table;
    std::shared_ptr<TableBuffer> buffer;
};

config::TableConfig hybrid(std::uint64_t size = 3) {
    config::TableConfig c;
    c.max_batch_size = size;
    c.max_batch_time = 2s;
    c.max_memory = 64 * 1024;
    return c;
}

}  // namespace

TEST_CASE("rows become NDJSON one line each sealed by the strategy") {
    Fixture f(hybrid(3));
    std::optional<flush::Batch> sealed;
    CHECK(f.append(R"([{"a":1},{"a":2}])", t0, sealed) == Admission::ok);
    CHECK_FALSE(sealed.has_value());
    CHECK(f.buffer->deadline() == t0 + 2s);
    CHECK(f.append(R"({"a":3})", t0 + 1s, sealed) == Admission::ok);
    REQUIRE(sealed.has_value());
    CHECK(sealed->rows == "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
    CHECK(sealed->row_count == 3);
    CHECK(sealed->reason == flush::FlushReason::size);
    CHECK(sealed->first_append == t0);
    CHECK(sealed->owner == f.buffer);
    CHECK(f.buffer->deadline() == TimePoint::max());
    CHECK(f.table->stats().rows_accepted == 3);
    CHECK(f.table->stats().seals[static_cast<int>(flush::FlushReason::size)] == 1);
    CHECK(f.table->stats().pending_rows == 3);
    CHECK(f.table->stats().buffered_rows == 0);
}

TEST_CASE("multi-line events are folded onto one line") {
    Fixture f(hybrid(10));
    std::optional<flush::Batch> sealed;
    f.append("[{\n  \"a\": \"x\",\r\n  \"b\": 1\n}]", t0, sealed);
    sealed = f.buffer->seal_now(flush::FlushReason::shutdown, t0);
    REQUIRE(sealed);
    CHECK(sealed->rows == "{   \"a\": \"x\",    \"b\": 1 }\n");
}

TEST_CASE("the timer seals a buffer once its deadline has passed") {
    Fixture f(hybrid(100));
    std::optional<flush::Batch> sealed;
    f.append(R"({"a":1})", t0, sealed);
    CHECK_FALSE(f.buffer->seal_if_due(t0 + 1999ms).has_value());
    const auto b = f.buffer->seal_if_due(t0 + 2s);
    REQUIRE(b.has_value());
    CHECK(b->reason == flush::FlushReason::time);
    CHECK_FALSE(f.buffer->seal_if_due(t0 + 10s).has_value());  // empty now
}

TEST_CASE("quotas: a full table and a full gateway refuse without buffering") {
    auto cfg = hybrid(1'000'000);
    cfg.max_memory = 4096;  // seals at 2048 bytes
    Fixture f(cfg);
    const std::string row =
        R"({"pad":")" + std::string(1100, 'x') + R"("})";  // 1111 bytes with its newline
    std::optional<flush::Batch> sealed;
    CHECK(f.append(row, t0, sealed) == Admission::ok);
    CHECK(f.append(row, t0, sealed) == Admission::ok);
    REQUIRE(sealed.has_value());  // 2 KiB: sealed by memory, still held until inserted
    CHECK(sealed->reason == flush::FlushReason::memory);
    CHECK(f.append(row, t0, sealed) == Admission::ok);
    CHECK(f.append(row, t0, sealed) == Admission::table_full);
    CHECK(f.table->stats().requests_rejected_full == 1);
    CHECK(f.table->stats().rows_accepted == 3);
    // Once the sealed batch is finished, its bytes come back.
    f.table->release(sealed->rows.size());
    CHECK(f.append(row, t0, sealed) == Admission::ok);

    const std::string huge = R"({"pad":")" + std::string(5000, 'x') + R"("})";
    CHECK(f.append(huge, t0, sealed) == Admission::too_large);

    Fixture g(hybrid(1'000'000), 1024 * 1024 + 10);
    g.gateway.try_reserve(1024 * 1024);
    CHECK(g.append(row, t0, sealed) == Admission::gateway_full);
    CHECK(g.table->held_bytes() == 0);  // the table's reservation was rolled back
}

TEST_CASE("a request larger than max_batch_size is split across batches") {
    Fixture f(hybrid(3));
    std::optional<flush::Batch> sealed;
    CHECK(f.append(R"({"a":0})", t0, sealed) == Admission::ok);
    CHECK(f.append(R"([{"a":1},{"a":2},{"a":3},{"a":4},{"a":5},{"a":6},{"a":7}])", t0, sealed) ==
          Admission::ok);
    REQUIRE(f.all.size() == 2);
    CHECK(f.all[0].rows == "{\"a\":0}\n{\"a\":1}\n{\"a\":2}\n");
    CHECK(f.all[1].rows == "{\"a\":3}\n{\"a\":4}\n{\"a\":5}\n");
    CHECK(f.all[1].reason == flush::FlushReason::size);
    // The rest waits for the next rows or the deadline.
    CHECK(f.buffer->deadline() == t0 + 2s);
    const auto rest = f.buffer->seal_now(flush::FlushReason::shutdown, t0);
    REQUIRE(rest);
    CHECK(rest->rows == "{\"a\":6}\n{\"a\":7}\n");
    CHECK(f.table->stats().rows_accepted == 8);
    CHECK(f.table->stats().requests_accepted == 2);
}

TEST_CASE("a request larger than the byte limit is split and an oversized row goes alone") {
    auto cfg = hybrid(1000);
    cfg.max_memory = 8192;  // seals at 4096 bytes
    Fixture f(cfg);
    const std::string row = R"({"pad":")" + std::string(1500, 'x') + R"("})";  // 1511 bytes
    const std::string big = R"({"pad":")" + std::string(4500, 'x') + R"("})";
    std::optional<flush::Batch> sealed;
    CHECK(f.append("[" + row + "," + row + "," + row + "," + row + "]", t0, sealed) ==
          Admission::ok);
    REQUIRE(f.all.size() == 1);
    CHECK(f.all[0].row_count == 3);
    CHECK(f.all[0].reason == flush::FlushReason::memory);
    f.table->release(f.all[0].rows.size());
    CHECK(f.append(big, t0, sealed) == Admission::ok);
    REQUIRE(f.all.size() == 1);
    CHECK(f.all[0].row_count == 2);  // the row left over, then the big one
}

TEST_CASE("immediate keeps a request whole") {
    auto cfg = hybrid(3);
    cfg.strategy = config::StrategyKind::immediate;
    Fixture f(cfg);
    std::optional<flush::Batch> sealed;
    f.append(R"([{"a":1},{"a":2},{"a":3},{"a":4},{"a":5}])", t0, sealed);
    REQUIRE(f.all.size() == 1);
    CHECK(f.all[0].row_count == 5);
    CHECK(f.all[0].reason == flush::FlushReason::immediate);
}

TEST_CASE("the INSERT names the table and the column list backquoted") {
    Fixture plain(hybrid());
    CHECK(plain.buffer->insert_query() == "INSERT INTO `default`.`events` FORMAT JSONEachRow");
    Fixture cols(hybrid(), 64 * config::kMiB, {"a", "b"});
    CHECK(cols.buffer->insert_query() ==
          "INSERT INTO `default`.`events` (`a`, `b`) FORMAT JSONEachRow");
}

TEST_CASE("batch ids increase") {
    const auto a = next_batch_id();
    const auto b = next_batch_id();
    CHECK(b > a);
}
