#include "LoadOptions.hpp"

#include <stdexcept>

namespace chgate::load {
namespace {

const char* kUsage = R"(Usage: chgate-load [options]

Posts analytics-example events (~260 bytes each) to chgate over
keep-alive connections and reports throughput and latency.

  --url HOST:PORT        chgate's address (default 127.0.0.1:8080)
  --table NAME           target table (default events)
  --endpoint KIND        events: POST /v1/events/{table} (default);
                         clickhouse: POST /?query=INSERT INTO {table} FORMAT JSONEachRow
  --connections N        keep-alive connections (default 64)
  --threads N            client threads (default 1)
  --events N             events per request (default 1)
  --ndjson               send NDJSON instead of a JSON array
  --rate R               requests per second in total (default: as fast as possible)
  --duration SECONDS     how long to send (default 10)
  --json                 print the summary as one JSON object
  --verify               afterwards, check that ClickHouse holds exactly the
                         acknowledged events of this run, once each
  --clickhouse URL       ClickHouse for --verify (default http://127.0.0.1:8123)
  --database NAME        database for --verify (default default)
  --verify-timeout SECS  how long to wait for the rows (default 60)
)";

double number(const std::string& flag, const std::string& value) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != value.size() || v < 0)
        throw std::invalid_argument(flag + ": not a number: " + value);
    return v;
}

}  // namespace

bool parse_options(const std::vector<std::string>& args, LoadOptions& o, std::string& message) {
    try {
        for (std::size_t i = 0; i < args.size(); ++i) {
            const auto& a = args[i];
            auto value = [&]() -> const std::string& {
                if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
                return args[++i];
            };
            if (a == "--help" || a == "-h") {
                message = kUsage;
                return false;
            } else if (a == "--url") {
                const auto& v = value();
                const auto colon = v.rfind(':');
                if (colon == std::string::npos) throw std::invalid_argument("--url: use HOST:PORT");
                o.host = v.substr(0, colon);
                o.port = v.substr(colon + 1);
            } else if (a == "--table") {
                o.table = value();
            } else if (a == "--endpoint") {
                o.endpoint = value();
                if (o.endpoint != "events" && o.endpoint != "clickhouse") {
                    throw std::invalid_argument("--endpoint: events or clickhouse");
                }
            } else if (a == "--connections") {
                o.connections = static_cast<int>(number(a, value()));
            } else if (a == "--threads") {
                o.threads = static_cast<int>(number(a, value()));
            } else if (a == "--events") {
                o.events_per_request = static_cast<int>(number(a, value()));
            } else if (a == "--ndjson") {
                o.ndjson = true;
            } else if (a == "--rate") {
                o.rate = number(a, value());
            } else if (a == "--duration") {
                o.duration = number(a, value());
            } else if (a == "--json") {
                o.json = true;
            } else if (a == "--verify") {
                o.verify = true;
            } else if (a == "--clickhouse") {
                o.clickhouse_url = value();
            } else if (a == "--database") {
                o.database = value();
            } else if (a == "--verify-timeout") {
                o.verify_timeout = number(a, value());
            } else {
                throw std::invalid_argument("unknown argument " + a);
            }
        }
        if (o.connections < 1 || o.threads < 1 || o.events_per_request < 1 || o.duration <= 0) {
            throw std::invalid_argument(
                "--connections, --threads, --events and --duration must be positive");
        }
    } catch (const std::invalid_argument& e) {
        message = std::string("chgate-load: ") + e.what() + "\n\n" + kUsage;
        return false;
    }
    return true;
}

}  // namespace chgate::load
