#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <utility>

#include "core/CityHash.hpp"

// Every expected value below is what ClickHouse 18.16.1 answered, e.g.
//   SELECT cityHash64('é'), cityHash64(toInt32(-1))
// so these tests pin chgate's hashing to ClickHouse's, not to a CityHash
// release (later releases give other values).

using namespace chgate::core;

namespace {

// The first n characters of 0-9a-zA-Z repeated: in ClickHouse,
// arrayStringConcat(arrayMap(i -> substring('0…Z', (i % 62) + 1, 1), range(n))).
std::string text(std::size_t n) {
    static const std::string alphabet =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string s;
    for (std::size_t i = 0; i < n; ++i)
        s += alphabet[i % alphabet.size()];
    return s;
}

}  // namespace

TEST_CASE("cityHash64 of a String equals ClickHouse's, at every length the algorithm splits on") {
    const std::pair<std::size_t, std::uint64_t> expected[] = {
        {0, 11160318154034397263ULL},   {1, 10408321403207385874ULL},
        {2, 10729262491330949055ULL},   {3, 10004111379364466413ULL},
        {4, 12579659945566698690ULL},   {5, 8787974383643421255ULL},
        {7, 5387440934952303906ULL},    {8, 7994146191380129035ULL},
        {9, 2943582641455212157ULL},    {15, 2715355979355808496ULL},
        {16, 692747204941329175ULL},    {17, 792568009951096890ULL},
        {24, 7217371555907886381ULL},   {31, 289323457133537153ULL},
        {32, 16253081498054822198ULL},  {33, 11275811701569304780ULL},
        {48, 11016232319869842315ULL},  {63, 18022031146690855113ULL},
        {64, 6254968485672349739ULL},   {65, 11948235509354821241ULL},
        {100, 14786381402975545617ULL}, {127, 603834295283190888ULL},
        {128, 9495673765160043203ULL},  {129, 4708571091806868936ULL},
        {200, 6845923192411137221ULL},  {1000, 17976150957984849546ULL},
    };
    for (const auto& [n, hash] : expected) {
        INFO("length " << n);
        CHECK(city_hash64(text(n)) == hash);
    }
}

TEST_CASE("cityHash64 reads bytes above 0x7f as unsigned, as ClickHouse does") {
    CHECK(city_hash64("\xc3\xa9") == 10825677769701452276ULL);  // 'é' in UTF-8
    CHECK(city_hash64("\xff\xfe\xfd") == 17690024366953098894ULL);
    CHECK(city_hash64("\x80") == 14225657211482784128ULL);
    CHECK(city_hash64("\xff\x80\xff\x80\xff") == 14681870043440184980ULL);
}

TEST_CASE("cityHash64 of an integer is intHash64 of it, zero-extended from its type's width") {
    CHECK(city_hash64_of_integer(0) == 4761183170873013810ULL);
    CHECK(city_hash64_of_integer(1) == 10577349846663553072ULL);
    CHECK(city_hash64_of_integer(12345678901234567890ULL) == 16053160066607574556ULL);
    // toInt32(-1) is 0xFFFFFFFF, not 2^64-1: ClickHouse widens the bits, not the value.
    CHECK(city_hash64_of_integer(0xFFFFFFFFULL) == 9168733277332772950ULL);
    CHECK(city_hash64_of_integer(UINT64_MAX) == 14600443904207254319ULL);  // toInt64(-1)
    CHECK(city_hash64_of_integer(200) == 14204231057850003148ULL);         // toUInt8(200)
    CHECK(city_hash64_of_integer(0xFF) == 8055013221972926055ULL);         // toInt8(-1)
    CHECK(int_hash64(0xFFFFFFFFULL) == 9168733277332772950ULL);
}
