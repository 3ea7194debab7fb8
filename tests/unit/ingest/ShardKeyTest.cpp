#include <catch2/catch.hpp>

#include <string>

#include "core/CityHash.hpp"
#include "ingest/ShardKey.hpp"

using namespace chgate;
using ingest::KeyFault;
using ingest::shard_key;
using Kind = core::ShardBy::Kind;

namespace {

const core::ShardBy kCity{Kind::city_hash, "k"};
const core::ShardBy kPlain{Kind::integer, "k"};

ingest::ShardKey key(std::string_view row, const core::ShardBy& by = kCity) {
    std::string scratch;
    return shard_key(row, by, scratch);
}

std::string decoded(std::string_view body) {
    std::string out;
    REQUIRE(ingest::decode_json_string(body, out));
    return out;
}

}  // namespace

TEST_CASE("cityHash64 of a string field hashes its decoded bytes") {
    CHECK(key(R"({"k":"abc"})").value == core::city_hash64("abc"));
    CHECK(key(R"( { "a" : [1, {"k": "no"}], "k" : "abc" , "z": null } )").value ==
          core::city_hash64("abc"));
    CHECK(key(R"({"k":"a\"b\\c\/d\n\u00e9"})").value == core::city_hash64("a\"b\\c/d\n\xc3\xa9"));
    CHECK(key(R"({"k":""})").value == core::city_hash64(""));
}

TEST_CASE("cityHash64 of an integer field hashes it as an unsigned integer column does") {
    CHECK(key(R"({"k":0})").value == core::city_hash64_of_integer(0));
    CHECK(key(R"({"k":18446744073709551615})").value == core::city_hash64_of_integer(UINT64_MAX));
    CHECK(key(R"({"k":-0})").value == core::city_hash64_of_integer(0));
}

TEST_CASE("a plain integer field is the key itself") {
    CHECK(key(R"({"k":42})", kPlain).value == 42);
    CHECK(key(R"({"k":18446744073709551615})", kPlain).value == UINT64_MAX);
    CHECK(key(R"({"k":"42"})", kPlain).fault == KeyFault::wrong_type);
}

TEST_CASE("rows chgate cannot shard exactly are refused, each for its reason") {
    CHECK(key(R"({"other":1})").fault == KeyFault::missing);
    CHECK(key(R"({"k":null})").fault == KeyFault::missing);
    CHECK(key(R"({})").fault == KeyFault::missing);
    CHECK(key(R"({"k":1,"k":2})").fault == KeyFault::duplicate);
    CHECK(key(R"({"k":1.5})").fault == KeyFault::wrong_type);
    CHECK(key(R"({"k":1e3})").fault == KeyFault::wrong_type);
    CHECK(key(R"({"k":true})").fault == KeyFault::wrong_type);
    CHECK(key(R"({"k":[1]})").fault == KeyFault::wrong_type);
    CHECK(key(R"({"k":{"a":1}})").fault == KeyFault::wrong_type);
    CHECK(key(R"({"k":-1})").fault == KeyFault::negative);
    CHECK(key(R"({"k":-1})", kPlain).fault == KeyFault::negative);
    CHECK(key(R"({"k":18446744073709551616})").fault == KeyFault::too_large);
    CHECK(key(R"({"k":"\ud83d"})").fault == KeyFault::lone_surrogate);
    CHECK(key(R"({"k":"\ude00x"})").fault == KeyFault::lone_surrogate);
    for (auto f : {KeyFault::missing, KeyFault::duplicate, KeyFault::wrong_type, KeyFault::negative,
                   KeyFault::too_large, KeyFault::lone_surrogate}) {
        CHECK(std::string(ingest::describe(f)).size() > 10);
    }
}

TEST_CASE("a key written with escapes names the field too") {
    CHECK(key(R"({"\u006b":"abc"})").value == core::city_hash64("abc"));
    CHECK(key(R"({"k\u0000":"abc"})").fault == KeyFault::missing);  // another name
}

TEST_CASE("JSON strings decode to the UTF-8 bytes ClickHouse stores") {
    CHECK(decoded(R"(plain)") == "plain");
    CHECK(decoded(R"(\b\f\n\r\t\"\\\/)") == "\b\f\n\r\t\"\\/");
    CHECK(decoded(R"(\u0041\u00e9\u6f22)") == "A\xc3\xa9\xe6\xbc\xa2");
    CHECK(decoded(R"(\ud83d\ude00)") == "\xf0\x9f\x98\x80");  // a surrogate pair: one emoji
    CHECK(decoded(R"(\u0000)") == std::string(1, '\0'));
    std::string out;
    CHECK_FALSE(ingest::decode_json_string(R"(\ud83dx)", out));
    CHECK_FALSE(ingest::decode_json_string(R"(\ud83d\u0041)", out));
    // Not valid JSON: refused without reading past the text.
    CHECK_FALSE(ingest::decode_json_string("abc\\", out));
    CHECK_FALSE(ingest::decode_json_string(R"(\u00)", out));
    CHECK_FALSE(ingest::decode_json_string(R"(\u00zz)", out));
    CHECK_FALSE(ingest::decode_json_string(R"(\ud83d\ude)", out));
}

TEST_CASE("a huge string key is hashed, not copied more than once") {
    const std::string big(1 << 20, 'x');
    std::string scratch;
    const auto k = shard_key("{\"k\":\"" + big + "\"}", kCity, scratch);
    CHECK(k.value == core::city_hash64(big));
    CHECK(scratch.size() == big.size());
}

TEST_CASE("rand() needs no field") {
    CHECK(key(R"({})", core::ShardBy{Kind::random, {}}).ok());
}
