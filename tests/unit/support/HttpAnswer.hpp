#pragma once

#include <string>

#include "clickhouse/HttpResponse.hpp"

namespace chgate::test {

/// What a fake ClickHouse server answers: `body` with `status`, over a
/// connection that worked.
inline clickhouse::HttpResponse http_answer(std::string body, long status = 200) {
    clickhouse::HttpResponse r;
    r.transport_ok = true;
    r.status = status;
    r.body = std::move(body);
    return r;
}

}  // namespace chgate::test
