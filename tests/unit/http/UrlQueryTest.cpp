#include <catch2/catch.hpp>

#include "http/UrlQuery.hpp"

using namespace chgate;
using namespace chgate::http;

TEST_CASE("targets split into path and query") {
    const auto t = split_target("/v1/events/t?ack=durable");
    CHECK(t.path == "/v1/events/t");
    CHECK(t.query == "ack=durable");
    CHECK(split_target("/metrics").query.empty());
}

TEST_CASE("query parameters are percent-decoded") {
    const auto q = "database=analytics&query=INSERT%20INTO+t%20FORMAT%20JSONEachRow&x";
    CHECK(query_param(q, "query") == "INSERT INTO t FORMAT JSONEachRow");
    CHECK(query_param(q, "database") == "analytics");
    CHECK(query_param(q, "x") == "");
    CHECK_FALSE(query_param(q, "missing").has_value());
    CHECK_FALSE(percent_decode("%G1").has_value());
    CHECK_FALSE(percent_decode("abc%2").has_value());
    CHECK_FALSE(percent_decode("abc%").has_value());
    CHECK(percent_decode("%41%62") == "Ab");
}
