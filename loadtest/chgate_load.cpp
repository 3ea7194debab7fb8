// chgate-load: drives chgate with analytics-example events and reports what it saw.
#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <cstdio>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "LoadConnection.hpp"
#include "LoadOptions.hpp"
#include "clickhouse/HttpClient.hpp"
#include "clickhouse/InsertRequest.hpp"

using namespace chgate;
using namespace chgate::load;
namespace net = boost::asio;

namespace {

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
    return sorted[i] / 1000.0;
}

struct Verification {
    bool ran = false;
    bool ok = false;
    std::uint64_t rows = 0;
    std::uint64_t unique = 0;
    std::string detail;
};

// Waits for this run's rows to land, then compares them with what was acknowledged.
Verification verify(const LoadOptions& o, const std::string& run_id, const LoadStats& s) {
    Verification v;
    v.ran = true;
    chgate::clickhouse::HttpClient::global_init();
    chgate::clickhouse::HttpClient client({"default", ""}, std::chrono::seconds(30));
    const std::string sql = "SELECT count(), uniqExact(event_id) FROM `" + o.database + "`.`" +
                            o.table + "` WHERE startsWith(event_id, '" + run_id + "-')";
    const auto deadline = Clock::now() + std::chrono::duration<double>(o.verify_timeout);
    const auto most = s.accepted_events + s.unanswered_events;
    for (;;) {
        const auto r = client.query(o.clickhouse_url, sql);
        if (!r.transport_ok || r.status != 200) {
            v.detail = "ClickHouse query failed: " + (r.transport_ok ? r.body : r.transport_error);
        } else {
            std::istringstream in(r.body);
            in >> v.rows >> v.unique;
            // Requests whose answers were lost may or may not have landed.
            const bool exact = v.rows == s.accepted_events;
            const bool within = v.rows >= s.accepted_events && v.rows <= most;
            v.ok = v.unique == v.rows && (exact || (s.unanswered_events > 0 && within));
            if (v.ok) break;
        }
        if (Clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    if (v.detail.empty()) {
        v.detail = std::to_string(s.accepted_events) + " acknowledged, " + std::to_string(v.rows) +
                   " in ClickHouse, " + std::to_string(v.rows - v.unique) + " duplicates";
        if (s.unanswered_events > 0) {
            v.detail += ", " + std::to_string(s.unanswered_events) + " sent without an answer";
        }
    }
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    LoadOptions o;
    std::string message;
    if (!parse_options(std::vector<std::string>(argv + 1, argv + argc), o, message)) {
        const bool help = message.rfind("Usage", 0) == 0;
        (help ? std::cout : std::cerr) << message;
        return help ? 0 : 2;
    }
    std::random_device rd;
    char run_buf[16];
    std::snprintf(run_buf, sizeof run_buf, "L%08x", rd());
    const std::string run_id = run_buf;

    net::io_context resolver_ioc;
    net::ip::tcp::resolver resolver(resolver_ioc);
    boost::system::error_code ec;
    const auto results = resolver.resolve(o.host, o.port, ec);
    if (ec || results.empty()) {
        std::cerr << "chgate-load: cannot resolve " << o.host << ":" << o.port << ": "
                  << ec.message() << "\n";
        return 2;
    }
    const auto endpoint = results.begin()->endpoint();
    const std::string target =
        o.endpoint == "events"
            ? "/v1/events/" + o.table
            : "/?query=" +
                  chgate::clickhouse::url_encode("INSERT INTO " + o.table + " FORMAT JSONEachRow");

    const auto start = Clock::now();
    const auto end = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(o.duration));
    const auto interval = o.rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(o.connections / o.rate))
                                     : Clock::duration::zero();
    std::vector<std::unique_ptr<net::io_context>> contexts;
    std::vector<LoadStats> stats(static_cast<std::size_t>(o.threads));
    for (int t = 0; t < o.threads; ++t)
        contexts.push_back(std::make_unique<net::io_context>(1));
    for (int c = 0; c < o.connections; ++c) {
        const auto t = static_cast<std::size_t>(c % o.threads);
        std::make_shared<LoadConnection>(*contexts[t], endpoint, o, target, c, run_id, stats[t],
                                         end, interval)
            ->start();
    }
    std::vector<std::thread> threads;
    for (auto& ctx : contexts)
        threads.emplace_back([&ctx] { ctx->run(); });
    for (auto& t : threads)
        t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

    LoadStats total;
    for (const auto& s : stats)
        total.merge(s);
    std::sort(total.latency_us.begin(), total.latency_us.end());
    Verification v;
    if (o.verify) v = verify(o, run_id, total);

    const double rps = static_cast<double>(total.accepted_requests) / elapsed;
    const double eps = static_cast<double>(total.accepted_events) / elapsed;
    if (o.json) {
        std::printf(
            "{\"run_id\":\"%s\",\"connections\":%d,\"events_per_request\":%d,\"seconds\":%.3f,"
            "\"requests\":%llu,\"accepted_requests\":%llu,\"accepted_events\":%llu,"
            "\"rejected\":%llu,\"failed\":%llu,\"transport_errors\":%llu,"
            "\"requests_per_second\":%.1f,\"events_per_second\":%.1f,"
            "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f",
            run_id.c_str(), o.connections, o.events_per_request, elapsed,
            static_cast<unsigned long long>(total.requests),
            static_cast<unsigned long long>(total.accepted_requests),
            static_cast<unsigned long long>(total.accepted_events),
            static_cast<unsigned long long>(total.rejected),
            static_cast<unsigned long long>(total.failed),
            static_cast<unsigned long long>(total.transport_errors), rps, eps,
            percentile(total.latency_us, 0.50), percentile(total.latency_us, 0.90),
            percentile(total.latency_us, 0.99), percentile(total.latency_us, 1.0));
        if (v.ran) {
            std::printf(",\"verify\":{\"ok\":%s,\"rows\":%llu,\"unique\":%llu}",
                        v.ok ? "true" : "false", static_cast<unsigned long long>(v.rows),
                        static_cast<unsigned long long>(v.unique));
        }
        std::printf("}\n");
    } else {
        std::printf("chgate-load %s: %d connections, %d events/request, %.1f s, %s\n",
                    run_id.c_str(), o.connections, o.events_per_request, elapsed,
                    o.rate > 0
                        ? (std::to_string(static_cast<long>(o.rate)) + " req/s target").c_str()
                        : "as fast as possible");
        std::printf(
            "requests:   %llu answered: %llu accepted, %llu rejected (429/503), %llu failed; %llu "
            "transport errors\n",
            static_cast<unsigned long long>(total.requests),
            static_cast<unsigned long long>(total.accepted_requests),
            static_cast<unsigned long long>(total.rejected),
            static_cast<unsigned long long>(total.failed),
            static_cast<unsigned long long>(total.transport_errors));
        std::printf("throughput: %.1f requests/s, %.1f events/s\n", rps, eps);
        std::printf("latency:    p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
                    percentile(total.latency_us, 0.50), percentile(total.latency_us, 0.90),
                    percentile(total.latency_us, 0.99), percentile(total.latency_us, 1.0));
        if (v.ran) std::printf("verify:     %s: %s\n", v.ok ? "OK" : "FAILED", v.detail.c_str());
    }
    if (v.ran && !v.ok) return 1;
    return total.accepted_requests > 0 ? 0 : 1;
}
