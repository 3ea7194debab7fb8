// Appending decoded rows to a table buffer, sealing batches, and compressing
// a sealed batch as the flushers do.
#include <benchmark/benchmark.h>

#include "Events.hpp"
#include "batch/TableBuffer.hpp"
#include "clickhouse/Compressor.hpp"
#include "ingest/BodyDecoder.hpp"

namespace {

using namespace chgate;

struct Buffer {
    explicit Buffer(std::uint64_t batch_rows) : gateway(1ULL << 30), rate(Clock::now()) {
        cfg.strategy = config::StrategyKind::hybrid;
        cfg.max_batch_size = batch_rows;
        cfg.max_batch_time = std::chrono::hours(1);
        cfg.max_memory = 1ULL << 30;
        table = std::make_shared<batch::Table>("events", "default", "events", cfg, gateway, rate);
        buffer = std::make_shared<batch::TableBuffer>(table, std::vector<std::string>{},
                                                      batch::make_strategy(cfg));
    }
    // Appends one request's rows; lets sealed batches go as a flusher would.
    void append(std::string_view body, std::span<const core::RowSlice> rows) {
        sealed.clear();
        buffer->append(body, rows, now, sealed);
        for (auto& b : sealed) {
            table->on_settled(b.row_count, b.rows.size());
            table->release(b.rows.size());
        }
    }

    config::TableConfig cfg;
    batch::MemoryBudget gateway;
    core::RateWindow rate;
    std::shared_ptr<batch::Table> table;
    std::shared_ptr<batch::TableBuffer> buffer;
    std::vector<flush::Batch> sealed;
    TimePoint now = Clock::now();
};

void run_append(benchmark::State& state, int events_per_request) {
    const auto body =
        events_per_request == 1 ? micro::event(1) : micro::body(events_per_request, true);
    std::vector<core::RowSlice> rows;
    ingest::DecodeError error;
    ingest::decode_body(body, ingest::BodyFormat::detect, rows, error);
    Buffer buf(static_cast<std::uint64_t>(state.range(0)));
    for (auto _ : state)
        buf.append(body, rows);
    state.SetItemsProcessed(state.iterations() * events_per_request);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

// One event per append; a batch is sealed every range(0) rows.
void BM_Append_OneEvent(benchmark::State& state) {
    run_append(state, 1);
}
// 1000 NDJSON rows per append.
void BM_Append_Ndjson1000(benchmark::State& state) {
    run_append(state, 1000);
}

void run_compress(benchmark::State& state, config::Compression method) {
    const auto rows = micro::body(4000, true);  // about 1 MB: one batch
    clickhouse::Compressor compressor;
    std::string out;
    for (auto _ : state) {
        compressor.compress(method, rows, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(rows.size()));
    state.counters["ratio"] = static_cast<double>(rows.size()) / static_cast<double>(out.size());
}

void BM_Compress_Gzip1(benchmark::State& state) {
    run_compress(state, config::Compression::gzip);
}
void BM_Compress_Zstd1(benchmark::State& state) {
    run_compress(state, config::Compression::zstd);
}

}  // namespace

BENCHMARK(BM_Append_OneEvent)->Arg(1000)->Arg(100000);
BENCHMARK(BM_Append_Ndjson1000)->Arg(100000);
BENCHMARK(BM_Compress_Gzip1);
BENCHMARK(BM_Compress_Zstd1);

BENCHMARK_MAIN();
