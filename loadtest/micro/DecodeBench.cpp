// Decoding: splitting a body into validated rows without building a DOM, and
// simdjson's full validation of the same bytes for comparison.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "Events.hpp"
#include "ingest/BodyDecoder.hpp"

namespace {

using chgate::ingest::BodyFormat;

void run_decode(benchmark::State& state, const std::string& body, BodyFormat format, int events) {
    std::vector<chgate::core::RowSlice> rows;
    chgate::ingest::DecodeError error;
    for (auto _ : state) {
        if (!chgate::ingest::decode_body(body, format, rows, error)) {
            state.SkipWithError(error.message.c_str());
            return;
        }
        benchmark::DoNotOptimize(rows.data());
    }
    state.SetItemsProcessed(state.iterations() * events);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

void BM_Decode_OneEvent(benchmark::State& state) {
    run_decode(state, chgate::micro::event(1), BodyFormat::detect, 1);
}
void BM_Decode_Array100(benchmark::State& state) {
    run_decode(state, chgate::micro::body(100, false), BodyFormat::detect, 100);
}
void BM_Decode_Ndjson1000(benchmark::State& state) {
    run_decode(state, chgate::micro::body(1000, true), BodyFormat::ndjson, 1000);
}

// simdjson's DOM parser validates the whole document (the parser is reused, so
// no allocation per call): the alternative to our hand-written scanner.
void run_simdjson(benchmark::State& state, const std::string& text, int events, bool many) {
    simdjson::dom::parser parser;
    const simdjson::padded_string padded(text);
    for (auto _ : state) {
        if (many) {
            simdjson::dom::document_stream docs;
            if (parser.parse_many(padded).get(docs) != simdjson::SUCCESS) {
                state.SkipWithError("parse_many failed");
                return;
            }
            std::size_t n = 0;
            for (auto doc : docs) {
                if (doc.error() != simdjson::SUCCESS) {
                    state.SkipWithError("invalid");
                    return;
                }
                ++n;
            }
            benchmark::DoNotOptimize(n);
        } else {
            simdjson::dom::element e;
            if (parser.parse(padded).get(e) != simdjson::SUCCESS) {
                state.SkipWithError("invalid");
                return;
            }
            benchmark::DoNotOptimize(e);
        }
    }
    state.SetItemsProcessed(state.iterations() * events);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

void BM_Simdjson_OneEvent(benchmark::State& state) {
    run_simdjson(state, chgate::micro::event(1), 1, false);
}
void BM_Simdjson_Array100(benchmark::State& state) {
    run_simdjson(state, chgate::micro::body(100, false), 100, false);
}
void BM_Simdjson_Ndjson1000(benchmark::State& state) {
    run_simdjson(state, chgate::micro::body(1000, true), 1000, true);
}

}  // namespace

BENCHMARK(BM_Decode_OneEvent);
BENCHMARK(BM_Simdjson_OneEvent);
BENCHMARK(BM_Decode_Array100);
BENCHMARK(BM_Simdjson_Array100);
BENCHMARK(BM_Decode_Ndjson1000);
BENCHMARK(BM_Simdjson_Ndjson1000);
