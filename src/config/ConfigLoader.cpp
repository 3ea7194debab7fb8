#include "config/ConfigLoader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "config/Cidr.hpp"
#include "config/ListenAddress.hpp"
#include "config/UrlCredentials.hpp"
#include "core/TableName.hpp"
#include "util/Sha256.hpp"

namespace chgate::config {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

std::string join_path(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
}

/// Walks the YAML tree. Every failure names the source, the line and the path.
class Reader {
  public:
    Reader(std::string source, const EnvLookup& env) : source_(std::move(source)), env_(env) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& path,
                           const std::string& message) const {
        std::ostringstream out;
        out << source_;
        // yaml-cpp counts lines from 0 and gives -1 for nodes it made up.
        if (node.IsDefined() && node.Mark().line >= 0) out << ":" << node.Mark().line + 1;
        out << ": " << (path.empty() ? "(top level)" : path) << ": " << message;
        throw ConfigError(out.str());
    }

    void expect_map(const YAML::Node& node, const std::string& path) const {
        if (!node.IsMap()) fail(node, path, "must be a mapping of keys to values");
    }

    /// A mapping's key as text: a list or mapping as a key (`? [a, b]: 1`) is an error.
    std::string key(const YAML::Node& node, const std::string& path) const {
        if (!node.IsScalar()) fail(node, path, "has a key that is a list or mapping, not a name");
        return node.Scalar();
    }

    /// Rejects keys outside `allowed`, suggesting the nearest known key.
    void check_keys(const YAML::Node& node, const std::string& path,
                    const std::vector<std::string_view>& allowed) const {
        expect_map(node, path);
        for (const auto& entry : node) {
            const auto key = this->key(entry.first, path);
            if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
            std::string message = "unknown key";
            std::string_view best;
            std::size_t best_distance = 3;
            for (auto candidate : allowed) {
                const auto d = edit_distance(key, candidate);
                if (d < best_distance) best_distance = d, best = candidate;
            }
            if (!best.empty()) message += " (did you mean " + std::string(best) + "?)";
            fail(entry.first, join_path(path, key), message);
        }
    }

    std::string scalar(const YAML::Node& node, const std::string& path) const {
        if (!node.IsScalar()) fail(node, path, "must be a single value, not a list or mapping");
        std::string error;
        auto value = substitute_env(node.Scalar(), env_, error);
        if (!value) fail(node, path, error);
        return *value;
    }

    std::uint64_t size(const YAML::Node& node, const std::string& path) const {
        const auto text = scalar(node, path);
        auto value = parse_size(text);
        if (!value) {
            fail(node, path,
                 "\"" + text + "\" is not a size; write bytes or a unit, like 512KiB or 10MiB");
        }
        return *value;
    }

    Duration duration(const YAML::Node& node, const std::string& path) const {
        const auto text = scalar(node, path);
        auto value = parse_duration(text);
        if (!value) {
            fail(node, path,
                 "\"" + text +
                     "\" is not a duration; write a number and a unit: 500ms, 2s, 5m, "
                     "1h or 1d");
        }
        return *value;
    }

    std::int64_t integer(const YAML::Node& node, const std::string& path, std::int64_t min,
                         std::int64_t max) const {
        const auto text = scalar(node, path);
        std::int64_t value = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || ptr != text.data() + text.size()) {
            fail(node, path, "\"" + text + "\" is not a whole number");
        }
        if (value < min || value > max) {
            fail(node, path,
                 "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     ", got " + text);
        }
        return value;
    }

    bool boolean(const YAML::Node& node, const std::string& path) const {
        const auto text = scalar(node, path);
        if (text == "true" || text == "yes" || text == "on") return true;
        if (text == "false" || text == "no" || text == "off") return false;
        fail(node, path, "\"" + text + "\" is not true or false");
    }

    template <typename Enum>
    Enum choice(const YAML::Node& node, const std::string& path,
                std::initializer_list<std::pair<std::string_view, Enum>> options) const {
        const auto text = scalar(node, path);
        std::string names;
        for (const auto& [name, value] : options) {
            if (text == name) return value;
            names += (names.empty() ? "" : ", ") + std::string(name);
        }
        fail(node, path, "\"" + text + "\" is not one of: " + names);
    }

    const std::string& source() const { return source_; }

    /// parent[key], when present, as a whole number in [min, max].
    template <typename T>
    void count(const YAML::Node& parent, const std::string& p, const char* key, std::int64_t min,
               std::int64_t max, T& out) const {
        if (auto n = parent[key]) out = static_cast<T>(integer(n, p + "." + key, min, max));
    }

    /// parent[key], when present, as a duration of at least `min`.
    void duration_at_least(const YAML::Node& parent, const std::string& p, const char* key,
                           Duration min, Duration& out) const {
        auto n = parent[key];
        if (!n) return;
        out = duration(n, p + "." + key);
        if (out < min) fail(n, p + "." + key, "must be at least " + format_duration(min));
    }

  private:
    std::string source_;
    const EnvLookup& env_;
};

struct Preset {
    StrategyKind kind;
    bool is_preset;  // false for a plain name or an alias: nothing to overlay
};

bool lookup_strategy(const std::string& name, Preset& out) {
    static const std::pair<std::string_view, Preset> kNames[] = {
        {"immediate", {StrategyKind::immediate, false}},
        {"time", {StrategyKind::time, false}},
        {"time_window", {StrategyKind::time, false}},
        {"size", {StrategyKind::size, false}},
        {"fixed_size", {StrategyKind::size, false}},
        {"hybrid", {StrategyKind::hybrid, false}},
        {"memory", {StrategyKind::memory, false}},
        {"memory_based", {StrategyKind::memory, false}},
        {"adaptive", {StrategyKind::adaptive, false}},
        {"adaptive_size", {StrategyKind::adaptive, false}},
        {"low_latency", {StrategyKind::hybrid, true}},
        {"mega_batch", {StrategyKind::hybrid, true}},
    };
    for (const auto& [n, preset] : kNames) {
        if (n == name) {
            out = preset;
            return true;
        }
    }
    return false;
}

// The batch configuration guide: low_latency keeps batches of a few rows and waits only
// milliseconds; mega_batch gathers tens of thousands of rows and accepts seconds of delay.
void apply_preset(const std::string& name, TableConfig& t) {
    if (name == "low_latency") {
        t.max_batch_size = 5;
        t.max_batch_time = 10ms;
    } else if (name == "mega_batch") {
        t.max_batch_size = 50'000;
        t.max_batch_time = 5s;
        t.max_memory = 64 * kMiB;
    }
}

const std::vector<std::string_view> kTableKeys = {
    "strategy", "max_batch_size",  "max_batch_time", "max_memory",     "max_age",
    "priority", "compression",     "retry_attempts", "min_batch_size", "target_latency",
    "ack",      "failure_strategy"};

/// Which explicitly set keys a strategy does not use, so that --check-config can say so.
std::vector<std::string_view> ignored_keys(StrategyKind kind) {
    switch (kind) {
        case StrategyKind::immediate:
            return {"max_batch_size", "max_batch_time", "min_batch_size", "target_latency"};
        case StrategyKind::time:
        case StrategyKind::hybrid:
            return {"min_batch_size", "target_latency"};
        case StrategyKind::size:
            return {"max_batch_time", "min_batch_size", "target_latency"};
        case StrategyKind::memory:
            return {"max_batch_size", "max_batch_time", "min_batch_size", "target_latency"};
        case StrategyKind::adaptive:
            return {};
    }
    return {};
}

class Loader {
  public:
    Loader(const std::string& source, const EnvLookup& env) : r_(source, env) {}

    LoadedConfig load(const YAML::Node& root) {
        auto config = std::make_shared<Config>();
        if (root.IsNull() || !root.IsDefined()) {
            r_.fail(root, "", "the file is empty; see config/chgate.yaml for a full example");
        }
        r_.check_keys(root, "",
                      {"server", "clickhouse", "batching", "storage", "auth", "admin", "metrics",
                       "readiness", "log"});
        if (root["server"]) read_server(root["server"], config->server);
        if (root["clickhouse"]) read_clickhouse(root["clickhouse"], config->clickhouse);
        if (root["batching"]) read_batching(root["batching"], *config);
        if (root["storage"]) read_storage(root["storage"], config->storage);
        if (auto n = root["readiness"]) {
            r_.check_keys(n, "readiness", {"held_tables", "max_lag", "max_spool_bytes"});
            auto& rd = config->readiness;
            if (auto m = n["held_tables"]) rd.held_tables = r_.boolean(m, "readiness.held_tables");
            if (auto m = n["max_lag"]) rd.max_lag = r_.duration(m, "readiness.max_lag");
            if (auto m = n["max_spool_bytes"]) {
                rd.max_spool_bytes = r_.size(m, "readiness.max_spool_bytes");
            }
        }
        if (auto n = root["auth"]) read_auth(n, config->auth);
        if (auto n = root["admin"]) {
            r_.check_keys(n, "admin", {"token", "token_file", "token_sha256", "allow_from"});
            config->admin.token = read_secret(n, "admin", false);
            if (auto m = n["allow_from"])
                config->admin.allow_from = read_cidrs(m, "admin.allow_from");
        }
        if (auto n = root["metrics"]) {
            r_.check_keys(n, "metrics", {"token", "token_file", "token_sha256"});
            config->metrics.token = read_secret(n, "metrics", false);
        }
        if (root["log"]) read_log(root["log"], config->log);
        check_exposure(root, *config);
        return LoadedConfig{std::move(config), std::move(warnings_)};
    }

  private:
    /// A token given as token (the text), token_file (a file holding it) or
    /// token_sha256 (its digest), kept as its SHA-256. An empty `token` (an
    /// unset ${VAR:-}) gives nullopt: no token. `required`: one must be given.
    std::optional<TokenDigest> read_secret(const YAML::Node& node, const std::string& p,
                                           bool required, std::string* source = nullptr) {
        const char* keys[] = {"token", "token_file", "token_sha256"};
        int given = 0;
        for (const char* k : keys)
            given += node[k] ? 1 : 0;
        if (given > 1) r_.fail(node, p, "give one of token, token_file and token_sha256");
        if (given == 0) {
            if (required) r_.fail(node, p, "needs token, token_file or token_sha256");
            return std::nullopt;
        }
        constexpr std::size_t kMinLength = 16;
        auto check_length = [&](const YAML::Node& n, const std::string& path,
                                const std::string& token) {
            if (token.size() < kMinLength) {
                r_.fail(n, path,
                        "is shorter than " + std::to_string(kMinLength) +
                            " characters; make one with `openssl rand -hex 32`");
            }
        };
        if (auto n = node["token"]) {
            const auto token = r_.scalar(n, p + ".token");
            if (token.empty()) return std::nullopt;
            check_length(n, p + ".token", token);
            if (source) *source = "token";
            return sha256(token);
        }
        if (auto n = node["token_file"]) {
            const auto path = r_.scalar(n, p + ".token_file");
            std::ifstream in(path, std::ios::binary);
            std::ostringstream text;
            if (in) text << in.rdbuf();
            if (!in || in.bad()) r_.fail(n, p + ".token_file", "cannot read \"" + path + "\"");
            auto token = text.str();
            while (!token.empty() && (token.back() == '\n' || token.back() == '\r' ||
                                      token.back() == ' ' || token.back() == '\t')) {
                token.pop_back();
            }
            check_length(n, p + ".token_file", token);
            if (source) *source = "token_file: " + path;
            return sha256(token);
        }
        const auto n = node["token_sha256"];
        TokenDigest digest{};
        if (!parse_sha256_hex(r_.scalar(n, p + ".token_sha256"), digest)) {
            r_.fail(n, p + ".token_sha256",
                    "must be 64 hex digits (`printf %s TOKEN | sha256sum`)");
        }
        if (source) *source = "token_sha256";
        return digest;
    }

    /// parent[key]: the path of a file chgate can read now (checked, so that
    /// a reload with a wrong path changes nothing). Empty (or an unset
    /// ${VAR:-}) is no file.
    std::string readable_file(const YAML::Node& parent, const std::string& p, const char* key,
                              bool required) {
        const auto n = parent[key];
        const auto path = n ? r_.scalar(n, p + "." + key) : std::string();
        if (path.empty()) {
            if (required) r_.fail(n ? n : parent, p + "." + key, "needs a file");
            return {};
        }
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            r_.fail(n, p + "." + key, "cannot read \"" + path + "\"");
        }
        return path;
    }

    std::vector<std::string> read_cidrs(const YAML::Node& node, const std::string& p) {
        if (!node.IsSequence()) r_.fail(node, p, "must be a list of addresses or ranges");
        std::vector<std::string> out;
        for (std::size_t i = 0; i < node.size(); ++i) {
            const auto path = p + "[" + std::to_string(i) + "]";
            const auto text = r_.scalar(node[i], path);
            std::string error;
            if (!parse_cidr(text, error)) r_.fail(node[i], path, error);
            out.push_back(text);
        }
        return out;
    }

    void read_auth(const YAML::Node& node, AuthConfig& a) {
        const std::string p = "auth";
        r_.check_keys(node, p, {"tokens", "allow_anonymous"});
        if (auto n = node["allow_anonymous"])
            a.allow_anonymous = r_.boolean(n, p + ".allow_anonymous");
        auto tokens = node["tokens"];
        if (!tokens || tokens.IsNull()) return;
        if (!tokens.IsSequence()) r_.fail(tokens, p + ".tokens", "must be a list of tokens");
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            const auto t = tokens[i];
            const auto tp = p + ".tokens[" + std::to_string(i) + "]";
            r_.check_keys(t, tp,
                          {"name", "token", "token_file", "token_sha256", "tables",
                           "max_events_per_second", "max_bytes_per_second"});
            TokenConfig token;
            if (!t["name"]) r_.fail(t, tp, "needs a name (shown in /metrics instead of the token)");
            token.name = r_.scalar(t["name"], tp + ".name");
            const bool plain = !token.name.empty() && token.name.size() <= 64 &&
                               token.name.find_first_not_of(
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789_.-") == std::string::npos;
            if (!plain) {
                r_.fail(t["name"], tp + ".name",
                        "must be 1 to 64 characters of letters, digits, _ . -");
            }
            for (const auto& other : a.tokens) {
                if (other.name == token.name) r_.fail(t["name"], tp + ".name", "is used twice");
            }
            // An empty token (an unset ${VAR:-}) leaves the entry out: one
            // file serves a loopback setup with no tokens and a real one.
            auto digest = read_secret(t, tp, true, &token.source);
            if (!digest) continue;
            token.digest = *digest;
            for (const auto& other : a.tokens) {
                if (other.digest == token.digest) {
                    r_.fail(t, tp, "has the same token as " + other.name);
                }
            }
            if (auto n = t["tables"]) {
                if (!n.IsSequence()) r_.fail(n, tp + ".tables", "must be a list of table globs");
                for (std::size_t j = 0; j < n.size(); ++j) {
                    const auto path = tp + ".tables[" + std::to_string(j) + "]";
                    const auto glob = r_.scalar(n[j], path);
                    if (glob.empty() || glob.find_first_not_of(
                                            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                            "0123456789_.*?") != std::string::npos) {
                        r_.fail(n[j], path,
                                "must be a table name or glob: letters, digits, _, . and the "
                                "wildcards * and ?");
                    }
                    token.tables.push_back(glob);
                }
            }
            r_.count(t, tp, "max_events_per_second", 0, 1'000'000'000, token.max_events_per_second);
            if (auto n = t["max_bytes_per_second"]) {
                token.max_bytes_per_second = r_.size(n, tp + ".max_bytes_per_second");
            }
            a.tokens.push_back(std::move(token));
        }
    }

    /// Ingest with no token is open only where nobody else can reach it: on
    /// a loopback address, unless auth.allow_anonymous says otherwise.
    void check_exposure(const YAML::Node& root, const Config& c) {
        std::string error;
        const auto address = parse_listen_address(c.server.listen, error);
        const bool loopback = address && is_loopback_host(address->host);
        if (!loopback && c.auth.tokens.empty() && !c.auth.allow_anonymous) {
            const auto n =
                root["server"] && root["server"]["listen"] ? root["server"]["listen"] : root;
            r_.fail(n, "server.listen",
                    "is " + c.server.listen +
                        ", reachable from other machines, and auth.tokens is empty: anyone "
                        "could write to any table. Give each app a token (auth.tokens), listen "
                        "on 127.0.0.1, or set auth.allow_anonymous: true");
        }
        if (!loopback && c.auth.allow_anonymous && c.auth.tokens.empty()) {
            warnings_.push_back(
                "auth.allow_anonymous is true and server.listen is not loopback: anyone who can "
                "reach " +
                c.server.listen + " can write to every table");
        }
    }

    void read_server(const YAML::Node& node, ServerConfig& s) {
        const std::string p = "server";
        r_.check_keys(node, p,
                      {"listen", "threads", "max_body_size", "idle_timeout", "shutdown_timeout",
                       "commit_timeout", "idempotency_window", "idempotency_max_keys",
                       "header_timeout", "body_timeout", "max_header_size", "max_connections",
                       "max_connections_per_ip", "max_inflight_bytes", "allow_from", "tls"});
        if (auto n = node["tls"]) {
            const auto tp = p + ".tls";
            r_.check_keys(n, tp, {"cert_file", "key_file", "client_ca_file"});
            s.tls.cert_file = readable_file(n, tp, "cert_file", false);
            s.tls.key_file = readable_file(n, tp, "key_file", s.tls.enabled());
            s.tls.client_ca_file = readable_file(n, tp, "client_ca_file", false);
        }
        if (auto n = node["allow_from"]) s.allow_from = read_cidrs(n, p + ".allow_from");
        if (auto n = node["listen"]) {
            s.listen = r_.scalar(n, p + ".listen");
            std::string error;
            if (!parse_listen_address(s.listen, error).has_value())
                r_.fail(n, p + ".listen", error);
        }
        if (auto n = node["threads"]) s.threads = int(r_.integer(n, p + ".threads", 0, 256));
        if (auto n = node["max_body_size"]) {
            s.max_body_size = r_.size(n, p + ".max_body_size");
            if (s.max_body_size < kKiB || s.max_body_size > 1024 * kMiB) {
                r_.fail(n, p + ".max_body_size", "must be between 1KiB and 1GiB");
            }
        }
        if (auto n = node["idle_timeout"]) {
            s.idle_timeout = r_.duration(n, p + ".idle_timeout");
            if (s.idle_timeout < 1s) r_.fail(n, p + ".idle_timeout", "must be at least 1s");
        }
        r_.duration_at_least(node, p, "header_timeout", 100ms, s.header_timeout);
        r_.duration_at_least(node, p, "body_timeout", 100ms, s.body_timeout);
        if (auto n = node["max_header_size"]) {
            s.max_header_size = r_.size(n, p + ".max_header_size");
            if (s.max_header_size < kKiB || s.max_header_size > kMiB) {
                r_.fail(n, p + ".max_header_size", "must be between 1KiB and 1MiB");
            }
        }
        r_.count(node, p, "max_connections", 1, 10'000'000, s.max_connections);
        r_.count(node, p, "max_connections_per_ip", 1, 10'000'000, s.max_connections_per_ip);
        if (auto n = node["max_inflight_bytes"]) {
            s.max_inflight_bytes = r_.size(n, p + ".max_inflight_bytes");
        }
        if (s.max_inflight_bytes < s.max_body_size) {
            r_.fail(node["max_inflight_bytes"] ? node["max_inflight_bytes"] : node,
                    p + ".max_inflight_bytes",
                    "(" + format_size(s.max_inflight_bytes) +
                        ") must be at least server.max_body_size (" + format_size(s.max_body_size) +
                        ")");
        }
        if (auto n = node["idempotency_window"]) {
            s.idempotency_window = r_.duration(n, p + ".idempotency_window");
            if (s.idempotency_window < 1s)
                r_.fail(n, p + ".idempotency_window", "must be at least 1s");
        }
        if (auto n = node["idempotency_max_keys"]) {
            s.idempotency_max_keys =
                std::uint64_t(r_.integer(n, p + ".idempotency_max_keys", 1, 100'000'000));
        }
        if (auto n = node["commit_timeout"]) {
            s.commit_timeout = r_.duration(n, p + ".commit_timeout");
            if (s.commit_timeout < 100ms)
                r_.fail(n, p + ".commit_timeout", "must be at least 100ms");
        }
        if (auto n = node["shutdown_timeout"]) {
            s.shutdown_timeout = r_.duration(n, p + ".shutdown_timeout");
        }
    }

    /// A replica's URL, without user info: credentials written into it
    /// (http://user:password@host) go to `credentials`, never into the URL
    /// that chgate logs and shows. Messages never quote the user info.
    std::string read_url(const YAML::Node& n, const std::string& path,
                         std::optional<UrlParts>& credentials) {
        const auto text = r_.scalar(n, path);
        std::string error;
        auto parts = split_userinfo(text, error);
        if (!parts) r_.fail(n, path, error);
        auto url = parts->url;
        if (!url.starts_with("http://") && !url.starts_with("https://")) {
            r_.fail(n, path,
                    "\"" + url +
                        "\" must start with http:// or https:// (chgate speaks ClickHouse's HTTP "
                        "interface, port 8123 by default)");
        }
        if (url.find_first_of("?#") != std::string::npos) {
            r_.fail(n, path, "must not carry a query string; use clickhouse.settings");
        }
        if (parts->has_userinfo) {
            if (credentials &&
                (credentials->user != parts->user || credentials->password != parts->password)) {
                r_.fail(n, path,
                        "names other credentials than an earlier URL; give them once, in "
                        "clickhouse.user and clickhouse.password");
            }
            credentials = std::move(parts);
        }
        while (url.ends_with('/'))
            url.pop_back();
        return url;
    }

    void read_clickhouse(const YAML::Node& node, ClickHouseConfig& c) {
        const std::string p = "clickhouse";
        r_.check_keys(
            node, p,
            {"url", "database", "user", "password", "timeout", "max_concurrent_inserts",
             "probe_interval", "settings", "error_classes", "retry", "hold_probe_interval",
             "hold_max", "max_inserts_per_batch", "urls", "circuit_breaker", "tls"});
        if (auto n = node["tls"]) {
            const auto tp = p + ".tls";
            r_.check_keys(n, tp, {"ca_file", "cert_file", "key_file", "verify"});
            c.tls.ca_file = readable_file(n, tp, "ca_file", false);
            c.tls.cert_file = readable_file(n, tp, "cert_file", false);
            c.tls.key_file = readable_file(n, tp, "key_file", !c.tls.cert_file.empty());
            if (auto m = n["verify"]) c.tls.verify = r_.boolean(m, tp + ".verify");
        }
        if (node["url"] && node["urls"]) {
            r_.fail(node["urls"], p + ".urls", "give url or urls, not both");
        }
        std::optional<UrlParts> credentials;
        if (auto n = node["url"]) {
            c.url = read_url(n, p + ".url", credentials);
            c.urls = {c.url};
        }
        if (auto n = node["urls"]) {
            if (!n.IsSequence() || n.size() == 0) {
                r_.fail(n, p + ".urls", "must be a list of one or more URLs");
            }
            c.urls.clear();
            for (std::size_t i = 0; i < n.size(); ++i) {
                c.urls.push_back(
                    read_url(n[i], p + ".urls[" + std::to_string(i) + "]", credentials));
            }
            c.url = c.urls.front();
        }
        if (auto n = node["circuit_breaker"]) {
            const auto bp = p + ".circuit_breaker";
            r_.check_keys(n, bp, {"failures", "cooldown"});
            if (auto m = n["failures"])
                c.breaker_failures = int(r_.integer(m, bp + ".failures", 1, 1000));
            if (auto m = n["cooldown"]) {
                c.breaker_cooldown = r_.duration(m, bp + ".cooldown");
                if (c.breaker_cooldown < 100ms)
                    r_.fail(m, bp + ".cooldown", "must be at least 100ms");
            }
        }
        if (auto n = node["database"]) {
            c.database = r_.scalar(n, p + ".database");
            if (!core::is_identifier(c.database)) {
                r_.fail(n, p + ".database",
                        "\"" + c.database + "\" is not a plain identifier [A-Za-z_][A-Za-z0-9_]*");
            }
        }
        if (auto n = node["user"]) c.user = r_.scalar(n, p + ".user");
        if (auto n = node["password"]) c.password = r_.scalar(n, p + ".password");
        if (credentials) {
            if (node["user"] || node["password"]) {
                r_.fail(node["user"] ? node["user"] : node["password"],
                        p + (node["user"] ? ".user" : ".password"),
                        "the URL carries credentials too; give them in one place");
            }
            c.user = credentials->user;
            c.password = credentials->password;
        }
        if (auto n = node["timeout"]) {
            c.timeout = r_.duration(n, p + ".timeout");
            if (c.timeout < 100ms) r_.fail(n, p + ".timeout", "must be at least 100ms");
        }
        if (auto n = node["max_concurrent_inserts"]) {
            c.max_concurrent_inserts = int(r_.integer(n, p + ".max_concurrent_inserts", 1, 64));
        }
        if (auto n = node["probe_interval"]) {
            c.probe_interval = r_.duration(n, p + ".probe_interval");
            if (c.probe_interval < 100ms) {
                r_.fail(n, p + ".probe_interval", "must be at least 100ms");
            }
        }
        if (auto n = node["hold_probe_interval"]) {
            c.hold_probe_interval = r_.duration(n, p + ".hold_probe_interval");
            if (c.hold_probe_interval < 100ms) {
                r_.fail(n, p + ".hold_probe_interval", "must be at least 100ms");
            }
        }
        r_.duration_at_least(node, p, "hold_max", 1s, c.hold_max);
        r_.count(node, p, "max_inserts_per_batch", 2, 100'000, c.max_inserts_per_batch);
        if (auto n = node["retry"]) {
            const auto rp = p + ".retry";
            r_.check_keys(n, rp, {"initial", "max", "multiplier"});
            if (auto m = n["initial"]) c.retry_initial = r_.duration(m, rp + ".initial");
            if (auto m = n["max"]) c.retry_max = r_.duration(m, rp + ".max");
            if (auto m = n["multiplier"]) {
                const auto text = r_.scalar(m, rp + ".multiplier");
                try {
                    c.retry_multiplier = std::stod(text);
                } catch (const std::exception&) {
                    r_.fail(m, rp + ".multiplier", "\"" + text + "\" is not a number");
                }
                if (c.retry_multiplier < 1.0 || c.retry_multiplier > 10.0) {
                    r_.fail(m, rp + ".multiplier", "must be between 1 and 10");
                }
            }
            if (c.retry_initial < 1ms) r_.fail(n, rp + ".initial", "must be at least 1ms");
            if (c.retry_max < c.retry_initial)
                r_.fail(n, rp + ".max", "must be at least retry.initial");
        }
        if (auto n = node["error_classes"]) {
            r_.expect_map(n, p + ".error_classes");
            for (const auto& entry : n) {
                const auto key = r_.key(entry.first, p + ".error_classes");
                const auto path = p + ".error_classes." + key;
                int code = 0;
                auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), code);
                if (ec != std::errc{} || ptr != key.data() + key.size() || code <= 0) {
                    r_.fail(entry.first, path,
                            "is not a ClickHouse error code (a positive number)");
                }
                c.error_classes[code] =
                    r_.choice<ErrorAction>(entry.second, path,
                                           {{"retry", ErrorAction::retry},
                                            {"quarantine", ErrorAction::quarantine},
                                            {"reject", ErrorAction::reject},
                                            {"hold", ErrorAction::hold}});
            }
        }
        if (auto n = node["settings"]) {
            if (n.IsNull()) return;
            r_.expect_map(n, p + ".settings");
            for (const auto& entry : n) {
                const auto name = r_.key(entry.first, p + ".settings");
                const auto path = p + ".settings." + name;
                if (!core::is_identifier(name)) {
                    r_.fail(entry.first, path, "is not a ClickHouse setting name");
                }
                if (name == "query" || name == "database" || name == "user" || name == "password" ||
                    name == "insert_deduplication_token") {
                    r_.fail(entry.first, path, "is set by chgate itself and cannot be overridden");
                }
                auto value = r_.scalar(entry.second, path);
                // ClickHouse's boolean settings are numbers; YAML's true/false are not.
                if (value == "true") value = "1";
                if (value == "false") value = "0";
                c.settings[name] = value;
            }
        }
    }

    /// Overlays one table block (or the defaults block) on `t`.
    void read_table(const YAML::Node& node, const std::string& p, TableConfig& t) {
        r_.check_keys(node, p, kTableKeys);
        if (auto n = node["strategy"]) {
            const auto name = r_.scalar(n, p + ".strategy");
            Preset preset{};
            if (!lookup_strategy(name, preset)) {
                r_.fail(n, p + ".strategy",
                        "\"" + name +
                            "\" is not a strategy; use immediate, time, size, hybrid, memory, "
                            "adaptive, or fixed_size, time_window, memory_based, adaptive_size, "
                            "low_latency, mega_batch");
            }
            t.strategy_name = name;
            t.strategy = preset.kind;
            if (preset.is_preset) apply_preset(name, t);
        }
        if (auto n = node["max_batch_size"]) {
            t.max_batch_size = std::uint64_t(r_.integer(n, p + ".max_batch_size", 1, 10'000'000));
        }
        if (auto n = node["max_batch_time"])
            t.max_batch_time = r_.duration(n, p + ".max_batch_time");
        if (auto n = node["max_memory"]) t.max_memory = r_.size(n, p + ".max_memory");
        if (auto n = node["max_age"]) {
            if (r_.scalar(n, p + ".max_age") == "auto") {
                t.max_age = Duration{0};
            } else {
                t.max_age = r_.duration(n, p + ".max_age");
                if (t.max_age < 1ms) r_.fail(n, p + ".max_age", "must be at least 1ms, or auto");
            }
        }
        if (auto n = node["priority"]) t.priority = int(r_.integer(n, p + ".priority", 1, 10));
        if (auto n = node["compression"]) {
            t.compression = r_.choice<Compression>(n, p + ".compression",
                                                   {{"gzip", Compression::gzip},
                                                    {"zstd", Compression::zstd},
                                                    {"none", Compression::none}});
        }
        if (auto n = node["retry_attempts"]) {
            t.retry_attempts = int(r_.integer(n, p + ".retry_attempts", 0, 100));
        }
        if (auto n = node["min_batch_size"]) {
            t.min_batch_size = std::uint64_t(r_.integer(n, p + ".min_batch_size", 1, 10'000'000));
        }
        if (auto n = node["target_latency"])
            t.target_latency = r_.duration(n, p + ".target_latency");
        if (auto n = node["failure_strategy"]) {
            t.failure_strategy = r_.choice<FailureStrategy>(
                n, p + ".failure_strategy",
                {{"RetryWithBackoff", FailureStrategy::retry_with_backoff},
                 {"SendToDLQ", FailureStrategy::send_to_dlq},
                 {"LogAndContinue", FailureStrategy::log_and_continue},
                 {"FailBatch", FailureStrategy::fail_batch}});
        }
        if (auto n = node["ack"]) {
            t.ack = r_.choice<AckLevel>(n, p + ".ack",
                                        {{"buffered", AckLevel::buffered},
                                         {"durable", AckLevel::durable},
                                         {"committed", AckLevel::committed}});
        }
    }

    /// Checks one merged table. `node` is where errors point.
    void validate_table(const YAML::Node& node, const std::string& p, TableConfig t,
                        std::uint64_t gateway_memory) {
        t = resolve_max_age(t);
        const bool uses_time = t.strategy == StrategyKind::time ||
                               t.strategy == StrategyKind::hybrid ||
                               t.strategy == StrategyKind::adaptive;
        if (uses_time && t.max_batch_time < 1ms) {
            r_.fail(node, p + ".max_batch_time",
                    "must be at least 1ms for strategy " + t.strategy_name +
                        " (use strategy: immediate to send every request at once)");
        }
        if (uses_time && t.max_age < t.max_batch_time) {
            r_.fail(node, p + ".max_age",
                    "(" + format_duration(t.max_age) + ") must be at least max_batch_time (" +
                        format_duration(t.max_batch_time) + ")");
        }
        if (t.max_memory < 4 * kKiB) r_.fail(node, p + ".max_memory", "must be at least 4KiB");
        if (t.max_memory > gateway_memory) {
            r_.fail(node, p + ".max_memory",
                    "(" + format_size(t.max_memory) + ") is more than batching.max_memory (" +
                        format_size(gateway_memory) + ")");
        }
        if (t.strategy == StrategyKind::adaptive) {
            if (t.min_batch_size > t.max_batch_size) {
                r_.fail(node, p + ".min_batch_size",
                        "(" + std::to_string(t.min_batch_size) + ") is more than max_batch_size (" +
                            std::to_string(t.max_batch_size) + ")");
            }
            if (t.target_latency < 1ms) {
                r_.fail(node, p + ".target_latency", "must be at least 1ms");
            }
        }
    }

    void warn_ignored(const YAML::Node& node, const std::string& p, const TableConfig& t) {
        for (auto key : ignored_keys(t.strategy)) {
            if (node[std::string(key)]) {
                warnings_.push_back(r_.source() + ":" +
                                    std::to_string(node[std::string(key)].Mark().line + 1) + ": " +
                                    p + "." + std::string(key) + ": strategy " + t.strategy_name +
                                    " does not use this key");
            }
        }
    }

    void read_batching(const YAML::Node& node, Config& config) {
        const std::string p = "batching";
        auto& b = config.batching;
        r_.check_keys(node, p,
                      {"enabled", "max_memory", "unknown_tables", "max_tables",
                       "max_buffers_per_table", "idle_buffer_ttl", "defaults", "tables"});
        if (auto n = node["enabled"]) b.enabled = r_.boolean(n, p + ".enabled");
        if (auto n = node["max_memory"]) {
            b.max_memory = r_.size(n, p + ".max_memory");
            if (b.max_memory < kMiB) r_.fail(n, p + ".max_memory", "must be at least 1MiB");
        }
        if (auto n = node["unknown_tables"]) {
            b.unknown_tables = r_.choice<UnknownTables>(
                n, p + ".unknown_tables",
                {{"reject", UnknownTables::reject}, {"defaults", UnknownTables::defaults}});
        }
        r_.count(node, p, "max_tables", 1, 100'000, b.max_tables);
        r_.count(node, p, "max_buffers_per_table", 0, 10'000, b.max_buffers_per_table);
        r_.duration_at_least(node, p, "idle_buffer_ttl", 1s, b.idle_buffer_ttl);
        // The built-in table quota must fit a small gateway budget unless set explicitly.
        b.defaults.max_memory = std::min(b.defaults.max_memory, b.max_memory);
        if (auto n = node["defaults"]) {
            read_table(n, p + ".defaults", b.defaults);
            validate_table(n, p + ".defaults", b.defaults, b.max_memory);
        } else {
            validate_table(node, p + ".defaults", b.defaults, b.max_memory);
        }
        if (auto tables = node["tables"]) {
            if (tables.IsNull()) return;
            r_.expect_map(tables, p + ".tables");
            std::set<std::string> qualified_names;
            for (const auto& entry : tables) {
                const auto name = r_.key(entry.first, p + ".tables");
                const auto tp = p + ".tables." + name;
                core::TableName parsed;
                if (!core::parse_table_name(name, parsed)) {
                    r_.fail(entry.first, tp,
                            "\"" + name +
                                "\" is not a table name: use an identifier [A-Za-z_][A-Za-z0-9_]*, "
                                "optionally db-qualified as db.table");
                }
                const auto qualified =
                    (parsed.database.empty() ? config.clickhouse.database : parsed.database) + "." +
                    parsed.table;
                if (!qualified_names.insert(qualified).second) {
                    r_.fail(entry.first, tp,
                            "names the same table as another entry (" + qualified + ")");
                }
                TableConfig t = b.defaults;
                if (!entry.second.IsNull()) read_table(entry.second, tp, t);
                t = resolve_max_age(t);
                validate_table(entry.second.IsNull() ? entry.first : entry.second, tp, t,
                               b.max_memory);
                if (!entry.second.IsNull()) warn_ignored(entry.second, tp, t);
                b.tables.emplace(name, t);
            }
        }
    }

    void read_storage(const YAML::Node& node, StorageConfig& s) {
        const std::string p = "storage";
        r_.check_keys(node, p,
                      {"dir", "fsync", "fsync_interval", "segment_size", "preallocate", "max_disk",
                       "spool_replay_rate", "dead_letter_retention"});
        if (auto n = node["dead_letter_retention"]) {
            s.dead_letter_retention = r_.duration(n, p + ".dead_letter_retention");
        }
        if (auto n = node["max_disk"]) s.max_disk = r_.size(n, p + ".max_disk");
        if (auto n = node["spool_replay_rate"]) {
            s.spool_replay_rate = r_.size(n, p + ".spool_replay_rate");
            if (s.spool_replay_rate < 64 * kKiB) {
                r_.fail(n, p + ".spool_replay_rate", "must be at least 64KiB (per second)");
            }
        }
        if (auto n = node["dir"]) {
            s.dir = r_.scalar(n, p + ".dir");
            if (s.dir.empty()) r_.fail(n, p + ".dir", "must not be empty");
        }
        if (auto n = node["fsync"]) {
            s.fsync = r_.choice<FsyncMode>(n, p + ".fsync",
                                           {{"always", FsyncMode::always},
                                            {"interval", FsyncMode::interval},
                                            {"never", FsyncMode::never}});
        }
        if (auto n = node["fsync_interval"]) {
            s.fsync_interval = r_.duration(n, p + ".fsync_interval");
            if (s.fsync_interval < 1ms) r_.fail(n, p + ".fsync_interval", "must be at least 1ms");
        }
        if (auto n = node["segment_size"]) {
            s.segment_size = r_.size(n, p + ".segment_size");
            if (s.segment_size < kMiB) r_.fail(n, p + ".segment_size", "must be at least 1MiB");
        }
        if (auto n = node["preallocate"]) {
            s.preallocate = r_.size(n, p + ".preallocate");
            if (s.preallocate > s.segment_size) {
                r_.fail(n, p + ".preallocate",
                        "must not be more than storage.segment_size (" +
                            format_size(s.segment_size) + ")");
            }
        }
    }

    void read_log(const YAML::Node& node, LogConfig& l) {
        r_.check_keys(node, "log", {"level", "rate_limit"});
        if (auto n = node["rate_limit"]) {
            r_.check_keys(n, "log.rate_limit", {"lines", "interval"});
            if (auto m = n["lines"]) {
                l.rate_limit_lines =
                    std::uint32_t(r_.integer(m, "log.rate_limit.lines", 0, 1'000'000));
            }
            if (auto m = n["interval"]) {
                l.rate_limit_interval = r_.duration(m, "log.rate_limit.interval");
                if (l.rate_limit_interval < 100ms) {
                    r_.fail(m, "log.rate_limit.interval", "must be at least 100ms");
                }
            }
        }
        if (auto n = node["level"]) {
            l.level = r_.choice<LogLevel>(n, "log.level",
                                          {{"debug", LogLevel::debug},
                                           {"info", LogLevel::info},
                                           {"warn", LogLevel::warn},
                                           {"error", LogLevel::error}});
        }
    }

    Reader r_;
    std::vector<std::string> warnings_;
};

}  // namespace

bool resolve_strategy_name(const std::string& name, StrategyKind& kind) {
    Preset preset{};
    if (!lookup_strategy(name, preset)) return false;
    kind = preset.kind;
    return true;
}

LoadedConfig load_config_text(const std::string& yaml, const std::string& source,
                              const EnvLookup& env) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) +
                          ": YAML syntax error: " + e.msg);
    }
    try {
        return Loader(source, env).load(root);
    } catch (const YAML::Exception& e) {
        // A shape the checks above did not foresee: still a config error, never a crash.
        throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
}

LoadedConfig load_config_file(const std::string& path, const EnvLookup& env) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot open the configuration file");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ConfigError(path + ": cannot read the configuration file");
    return load_config_text(text.str(), path, env);
}

const char* to_string(StrategyKind k) {
    switch (k) {
        case StrategyKind::immediate:
            return "immediate";
        case StrategyKind::time:
            return "time";
        case StrategyKind::size:
            return "size";
        case StrategyKind::hybrid:
            return "hybrid";
        case StrategyKind::memory:
            return "memory";
        case StrategyKind::adaptive:
            return "adaptive";
    }
    return "?";
}

const char* to_string(Compression c) {
    switch (c) {
        case Compression::none:
            return "none";
        case Compression::gzip:
            return "gzip";
        case Compression::zstd:
            return "zstd";
    }
    return "?";
}

const char* to_string(UnknownTables u) {
    return u == UnknownTables::reject ? "reject" : "defaults";
}

const char* to_string(AckLevel a) {
    switch (a) {
        case AckLevel::buffered:
            return "buffered";
        case AckLevel::durable:
            return "durable";
        case AckLevel::committed:
            return "committed";
    }
    return "?";
}

const char* to_string(FsyncMode f) {
    switch (f) {
        case FsyncMode::always:
            return "always";
        case FsyncMode::interval:
            return "interval";
        case FsyncMode::never:
            return "never";
    }
    return "?";
}

const char* to_string(FailureStrategy f) {
    switch (f) {
        case FailureStrategy::retry_with_backoff:
            return "RetryWithBackoff";
        case FailureStrategy::send_to_dlq:
            return "SendToDLQ";
        case FailureStrategy::log_and_continue:
            return "LogAndContinue";
        case FailureStrategy::fail_batch:
            return "FailBatch";
    }
    return "?";
}

const char* to_string(ErrorAction a) {
    switch (a) {
        case ErrorAction::retry:
            return "retry";
        case ErrorAction::quarantine:
            return "quarantine";
        case ErrorAction::reject:
            return "reject";
        case ErrorAction::hold:
            return "hold";
    }
    return "?";
}

const char* to_string(LogLevel l) {
    switch (l) {
        case LogLevel::debug:
            return "debug";
        case LogLevel::info:
            return "info";
        case LogLevel::warn:
            return "warn";
        case LogLevel::error:
            return "error";
    }
    return "?";
}

}  // namespace chgate::config
