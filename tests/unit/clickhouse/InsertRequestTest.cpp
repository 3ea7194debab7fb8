#include <catch2/catch.hpp>

#include "clickhouse/InsertRequest.hpp"

using namespace chgate;
using namespace chgate::clickhouse;

TEST_CASE("url encoding leaves only unreserved characters") {
    CHECK(url_encode("INSERT INTO `db`.`t` FORMAT JSONEachRow") ==
          "INSERT%20INTO%20%60db%60.%60t%60%20FORMAT%20JSONEachRow");
    CHECK(url_encode("a-b_c.d~e") == "a-b_c.d~e");
    CHECK(url_encode("\xff/") == "%FF%2F");
}

TEST_CASE("an 18.16 server gets no optional parameters") {
    ServerInfo old;
    old.version = "18.16.1";
    old.wait_end_of_query = true;
    old.settings = {{"date_time_input_format", "best_effort"}};
    CHECK(build_insert_url("http://ch:8123", "INSERT INTO `default`.`t` FORMAT JSONEachRow", old) ==
          "http://ch:8123/?query=INSERT%20INTO%20%60default%60.%60t%60%20FORMAT%20JSONEachRow"
          "&date_time_input_format=best_effort&wait_end_of_query=1");
}

TEST_CASE("a newer server gets async_insert=0 and the operator's settings win") {
    ServerInfo s;
    s.async_insert = true;
    s.wait_end_of_query = true;
    const auto url = build_insert_url("http://ch:8123", "Q", s);
    CHECK(url == "http://ch:8123/?query=Q&wait_end_of_query=1&async_insert=0");
    s.settings = {{"async_insert", "1"}};
    CHECK(build_insert_url("http://ch:8123", "Q", s) ==
          "http://ch:8123/?query=Q&async_insert=1&wait_end_of_query=1");
}

TEST_CASE("a server with insert_deduplication_token gets the batch's token") {
    ServerInfo s;
    s.insert_deduplication_token = true;
    const auto token = dedup_token(42, "{\"a\":1}\n");
    CHECK(token == dedup_token(42, "{\"a\":1}\n"));  // the same batch, the same token
    CHECK(token != dedup_token(42, "{\"a\":2}\n"));  // a changed remainder, another
    CHECK(token != dedup_token(43, "{\"a\":1}\n"));
    CHECK_THAT(token, Catch::StartsWith("chgate-42-"));
    CHECK(build_insert_url("http://ch", "Q", s, token) ==
          "http://ch/?query=Q&insert_deduplication_token=" + token);
    ServerInfo old;  // 18.16: no such setting, so none is sent
    CHECK(build_insert_url("http://ch", "Q", old, token) == "http://ch/?query=Q");
}

TEST_CASE("unknown_fields: ignore skips unknown fields, unless clickhouse.settings says") {
    ServerInfo s;
    CHECK(build_insert_url("http://ch", "Q", s, {}, false, true) ==
          "http://ch/?query=Q&input_format_skip_unknown_fields=1");
    s.settings = {{"input_format_skip_unknown_fields", "0"}};
    CHECK(build_insert_url("http://ch", "Q", s, {}, false, true) ==
          "http://ch/?query=Q&input_format_skip_unknown_fields=0");
}

TEST_CASE("an INSERT into a Distributed table waits for the shards, where the server can") {
    ServerInfo s;  // 18.16 has insert_distributed_sync
    CHECK(build_insert_url("http://ch", "Q", s, {}, true) ==
          "http://ch/?query=Q&insert_distributed_sync=1");
    CHECK(build_insert_url("http://ch", "Q", s, {}, false) == "http://ch/?query=Q");
    // The operator's insert_distributed_sync=0 holds for other tables, not for this one.
    s.settings = {{"insert_distributed_sync", "0"}, {"max_threads", "2"}};
    CHECK(build_insert_url("http://ch", "Q", s, {}, true) ==
          "http://ch/?query=Q&max_threads=2&insert_distributed_sync=1");
    CHECK(build_insert_url("http://ch", "Q", s, {}, false) ==
          "http://ch/?query=Q&insert_distributed_sync=0&max_threads=2");
    ServerInfo without;
    without.insert_distributed_sync = false;
    CHECK(build_insert_url("http://ch", "Q", without, {}, true) == "http://ch/?query=Q");
}
