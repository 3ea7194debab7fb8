#include <catch2/catch.hpp>

#include "http/ResponseWriter.hpp"

using namespace chgate;
using namespace chgate::http;
namespace bhttp = boost::beast::http;

TEST_CASE("A 202 is written with its headers and body") {
    Response r;
    r.status = bhttp::status::accepted;
    r.body = R"({"accepted":1})";
    std::string out;
    write_response(r, {}, out);
    CHECK(out ==
          "HTTP/1.1 202 Accepted\r\nServer: chgate\r\nContent-Type: application/json\r\n"
          "Content-Length: 14\r\n\r\n{\"accepted\":1}");
}

TEST_CASE("Optional headers appear only when set") {
    Response r;
    r.status = bhttp::status::too_many_requests;
    r.retry_after_seconds = 3;
    r.idempotent_replayed = true;
    r.allow = "POST";
    r.www_authenticate = "Bearer";
    r.content_type = "text/plain";
    r.body = "full";
    std::string out;
    write_response(r, {}, out);
    CHECK(out ==
          "HTTP/1.1 429 Too Many Requests\r\nServer: chgate\r\nContent-Type: text/plain\r\n"
          "Retry-After: 3\r\nAllow: POST\r\nIdempotent-Replayed: true\r\n"
          "WWW-Authenticate: Bearer\r\nContent-Length: 4\r\n\r\nfull");
}

TEST_CASE("Connection is written only where the version's default does not hold") {
    Response r;
    std::string out;
    write_response(r, {11, false, false}, out);
    CHECK(out.find("Connection: close\r\n") != std::string::npos);
    write_response(r, {10, true, false}, out);
    CHECK(out.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    CHECK(out.find("Connection: keep-alive\r\n") != std::string::npos);
    write_response(r, {10, false, false}, out);
    CHECK(out.find("Connection") == std::string::npos);
    write_response(r, {11, true, false}, out);
    CHECK(out.find("Connection") == std::string::npos);
}

TEST_CASE("A HEAD answer keeps Content-Length but has no body") {
    Response r;
    r.body = "{\"ok\":true}";
    std::string out;
    write_response(r, {11, true, true}, out);
    CHECK(out.find("Content-Length: 11\r\n\r\n") != std::string::npos);
    CHECK(out.substr(out.size() - 4) == "\r\n\r\n");
}

TEST_CASE("The output buffer is reused") {
    Response r;
    r.body = std::string(100, 'x');
    std::string out;
    write_response(r, {}, out);
    const auto* data = out.data();
    const auto first = out;
    r.body = "short";
    write_response(r, {}, out);
    CHECK(out.data() == data);
    CHECK(out.size() < first.size());
}
