// RowBinary: encoding a batch of analytics events from NDJSON, against
// decoding (validating and splitting) the same body, the door's cost.
#include <benchmark/benchmark.h>

#include "Events.hpp"
#include "ingest/RowBinary.hpp"

namespace {

using namespace chgate::ingest;

void BM_RowBinary_Ndjson1000(benchmark::State& state) {
    const auto body = chgate::micro::body(1000, true);
    std::vector<EncodedColumn> columns;
    for (const auto& [name, type] :
         std::vector<std::pair<std::string, std::string>>{{"event_id", "String"},
                                                          {"user_id", "UInt64"},
                                                          {"session_id", "String"},
                                                          {"event_type", "String"},
                                                          {"event_timestamp", "DateTime"},
                                                          {"page_url", "String"},
                                                          {"device_type", "String"},
                                                          {"browser", "String"},
                                                          {"country", "String"},
                                                          {"revenue", "Float64"},
                                                          {"duration_seconds", "UInt32"}}) {
        columns.push_back({name, parse_column_type(type), false});
    }
    std::string why;
    const auto encoder = RowBinaryEncoder::make(columns, {true, false, false}, why);
    std::string out;
    for (auto _ : state) {
        out.clear();
        if (!encoder->encode(body, out, why)) {
            state.SkipWithError(why.c_str());
            return;
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * 1000);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

}  // namespace

BENCHMARK(BM_RowBinary_Ndjson1000);
