// Column types and rows: bytes as "TYPE\nROW". The type (what system.columns
// says, from a server) is parsed whatever it holds; the row (a client's) is
// checked against two columns of that type when it scans as an object, and
// as one value when it scans as any JSON. Never a crash, never a read past
// the row. What schema: coerce rewrites is never longer than what was sent,
// and passes the check.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/JsonScanner.hpp"
#include "ingest/RowCheck.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace chgate::ingest;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto nl = input.find('\n');
    if (nl == std::string_view::npos) {
        (void)parse_column_type(input);
        return 0;
    }
    const auto type = parse_column_type(input.substr(0, nl));
    (void)to_string(type);
    // A copy of its own: a read past the row is a read past this buffer.
    const std::string row(input.substr(nl + 1));
    const auto scan = scan_value(row, 0);
    if (!scan.ok() || scan.end != row.size()) return 0;
    std::string scratch, out;
    for (const bool best_effort : {false, true}) {
        const CheckOptions options{best_effort, !best_effort};
        if (check_value(type, row, options, scratch) != nullptr) {
            out.clear();
            if (coerce_value(type, row, options, scratch, out) &&
                (out.size() > row.size() || check_value(type, out, options, scratch) != nullptr)) {
                std::abort();
            }
        }
        if (row[0] == '{') {
            const RowChecker checker({{"a", type, true}, {"b", type, false}}, options);
            (void)checker.check(row, scratch);
            bool coerced = false;
            const auto fault = checker.coerce(row, scratch, out, coerced);
            if (coerced && (fault || out.size() > row.size() || checker.check(out, scratch))) {
                std::abort();
            }
        }
    }
    return 0;
}
