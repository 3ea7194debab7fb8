#include <catch2/catch.hpp>

#include <string>

#include "core/Crc32c.hpp"

using namespace chgate;

TEST_CASE("CRC-32C matches the standard check value") {
    CHECK(core::crc32c("123456789", 9) == 0xE3069283u);
    CHECK(core::crc32c("", 0) == 0u);
    // Continuing a CRC equals computing it in one go.
    CHECK(core::crc32c("56789", 5, core::crc32c("1234", 4)) == 0xE3069283u);
    const std::string big(100'003, 'x');
    CHECK(core::crc32c(big.data(), big.size()) ==
          core::crc32c(big.data() + 3, big.size() - 3, core::crc32c(big.data(), 3)));
}
