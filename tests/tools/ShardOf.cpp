// Prints the shard chgate's sharding code picks for each value, so that the
// cluster tests can compare it with where ClickHouse's Distributed engine put
// the same rows.
//
//   chgate_shard_of city|int WEIGHT...    (values on stdin, one per line)
//
// city: the value is a String, sharded by cityHash64(value). int: the value
// is a UInt64, sharded by itself.

#include <charconv>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "core/CityHash.hpp"
#include "core/ShardSlots.hpp"

int main(int argc, char** argv) {
    if (argc < 3 || (std::strcmp(argv[1], "city") != 0 && std::strcmp(argv[1], "int") != 0)) {
        std::cerr << "usage: chgate_shard_of city|int WEIGHT... < values\n";
        return 2;
    }
    try {
        const bool city = std::strcmp(argv[1], "city") == 0;
        std::vector<std::uint32_t> weights;
        for (int i = 2; i < argc; ++i)
            weights.push_back(static_cast<std::uint32_t>(std::stoul(argv[i])));
        const chgate::core::ShardSlots slots(weights);
        for (std::string line; std::getline(std::cin, line);) {
            std::uint64_t key = 0;
            if (city) {
                key = chgate::core::city_hash64(line);
            } else {
                const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), key);
                if (ec != std::errc{} || end != line.data() + line.size()) {
                    std::cerr << "not a UInt64: " << line << "\n";
                    return 1;
                }
            }
            std::cout << slots.shard_of(key) << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}
