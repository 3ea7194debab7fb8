// Prints whether chgate's row check takes each JSON value for a column type,
// so that an integration test can compare with what ClickHouse takes.
//
//   chgate_check_value TYPE [best_effort] < values
//
// TYPE as system.columns spells it; values are JSON, one per line. Prints
// "ok" or "bad: <reason>" per value.

#include <iostream>
#include <string>

#include "ingest/JsonScanner.hpp"
#include "ingest/RowCheck.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: chgate_check_value TYPE [best_effort] < values\n";
        return 2;
    }
    const auto type = chgate::ingest::parse_column_type(argv[1]);
    chgate::ingest::CheckOptions options;
    options.date_time_best_effort = argc > 2 && std::string(argv[2]) == "best_effort";
    std::string scratch;
    for (std::string line; std::getline(std::cin, line);) {
        if (!chgate::ingest::scan_value(line, 0).ok()) {
            std::cout << "bad: not JSON\n";
            continue;
        }
        const auto bad = chgate::ingest::check_value(type, line, options, scratch);
        std::cout << (bad == nullptr ? std::string("ok") : std::string("bad: ") + bad) << "\n";
    }
    return 0;
}
