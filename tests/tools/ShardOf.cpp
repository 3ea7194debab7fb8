// Prints the shard chgate's sharding code picks for each row, so that the
// cluster tests can compare it with where ClickHouse's Distributed engine put
// the same rows.
//
//   chgate_shard_of SHARD_BY WEIGHT... < rows
//
// SHARD_BY as in a table's config (cityHash64(k), n, rand()); rows are JSON
// objects, one per line. Prints the shard's index (from 0) per row, or
// "error: ..." for a row chgate would refuse.

#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "core/ShardBy.hpp"
#include "core/ShardSlots.hpp"
#include "ingest/ShardKey.hpp"

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: chgate_shard_of SHARD_BY WEIGHT... < rows\n";
        return 2;
    }
    try {
        std::string error;
        const auto by = chgate::core::parse_shard_by(argv[1], error);
        if (!by) {
            std::cerr << error << "\n";
            return 2;
        }
        std::vector<std::uint32_t> weights;
        for (int i = 2; i < argc; ++i)
            weights.push_back(static_cast<std::uint32_t>(std::stoul(argv[i])));
        const chgate::core::ShardSlots slots(weights);
        std::string scratch;
        for (std::string line; std::getline(std::cin, line);) {
            const auto key = chgate::ingest::shard_key(line, *by, scratch);
            if (key.ok()) {
                std::cout << slots.shard_of(key.value) << "\n";
            } else {
                std::cout << "error: " << chgate::ingest::describe(key.fault) << "\n";
            }
        }
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}
