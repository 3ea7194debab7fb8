#include "config/ConfigSchema.hpp"

#include <charconv>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/Cidr.hpp"
#include "config/ListenAddress.hpp"
#include "config/SqlFiles.hpp"
#include "config/UrlCredentials.hpp"
#include "core/ShardSlots.hpp"
#include "core/TableName.hpp"
#include "util/Sha256.hpp"

namespace chgate::config::keys {
namespace {

constexpr auto kLive = Reload::live;
const std::string_view kSecretKeys[] = {"token", "token_file", "token_sha256"};

// --- values that need more than a bound -------------------------------------

struct ListenValue {
    std::string read(Reader& r, const YAML::Node& n, const std::string& path) const {
        auto text = r.scalar(n, path);
        std::string error;
        if (!parse_listen_address(text, error).has_value()) r.fail(n, path, error);
        return text;
    }
    void print(YAML::Emitter& out, const std::string& v) const { out << YAML::DoubleQuoted << v; }
};

struct IdentifierValue {
    std::string read(Reader& r, const YAML::Node& n, const std::string& path) const {
        auto text = r.scalar(n, path);
        if (!core::is_identifier(text)) {
            r.fail(n, path, "\"" + text + "\" is not a plain identifier [A-Za-z_][A-Za-z0-9_]*");
        }
        return text;
    }
    void print(YAML::Emitter& out, const std::string& v) const { out << v; }
};

/// A key compared and reloaded as one member, read and printed by others.
template <class S, class T>
Key<S> member_key(std::string_view name, T S::*member, Reload reload) {
    Key<S> k{name, reload, {}, {}, {}, {}};
    k.diff = [member, reload](const S& a, const S& b, const std::string& path, ConfigChanges& out) {
        if (!(a.*member == b.*member)) note_change(reload, path, out);
    };
    if (reload == kLive) k.apply = [member](S& to, const S& from) { to.*member = from.*member; };
    return k;
}

/// A secret is printed as set or not, never as itself.
template <class S, class T>
Key<S> masked(std::string_view name, T S::*member, Reload reload) {
    Key<S> k = member_key(name, member, reload);
    k.print = [member, name](YAML::Emitter& out, const S& s) {
        out << YAML::Key << std::string(name) << YAML::Value << YAML::DoubleQuoted
            << (s.*member == T{} ? "" : "********");
    };
    return k;
}

/// A key with a reader and a printer of its own.
template <class S, class T, class Read, class Print>
Key<S> custom(std::string_view name, T S::*member, Read read, Print print,
              Reload reload = Reload::restart) {
    Key<S> k = member_key(name, member, reload);
    k.read = read;
    k.print = [member, name, print](YAML::Emitter& out, const S& s) {
        out << YAML::Key << std::string(name) << YAML::Value;
        print(out, s.*member);
    };
    return k;
}

/// A token given as token (the text), token_file (a file holding it) or
/// token_sha256 (its digest), kept as its SHA-256. An empty `token` (an unset
/// ${VAR:-}) gives nullopt: no token. `required`: one must be given.
std::optional<TokenDigest> read_secret(Reader& r, const YAML::Node& node, const std::string& p,
                                       bool required, std::string* source = nullptr) {
    int given = 0;
    for (auto k : kSecretKeys)
        given += node[std::string(k)] ? 1 : 0;
    if (given > 1) r.fail(node, p, "give one of token, token_file and token_sha256");
    if (given == 0) {
        if (required) r.fail(node, p, "needs token, token_file or token_sha256");
        return std::nullopt;
    }
    constexpr std::size_t kMinLength = 16;
    auto check_length = [&](const YAML::Node& n, const std::string& path, const std::string& t) {
        if (t.size() < kMinLength) {
            r.fail(n, path,
                   "is shorter than " + std::to_string(kMinLength) +
                       " characters; make one with `openssl rand -hex 32`");
        }
    };
    if (auto n = node["token"]) {
        const auto token = r.scalar(n, p + ".token");
        if (token.empty()) return std::nullopt;
        check_length(n, p + ".token", token);
        if (source) *source = "token";
        return sha256(token);
    }
    if (auto n = node["token_file"]) {
        const auto path = r.scalar(n, p + ".token_file");
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        if (in) text << in.rdbuf();
        if (!in || in.bad()) r.fail(n, p + ".token_file", "cannot read \"" + path + "\"");
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
    if (!parse_sha256_hex(r.scalar(n, p + ".token_sha256"), digest)) {
        r.fail(n, p + ".token_sha256", "must be 64 hex digits (`printf %s TOKEN | sha256sum`)");
    }
    if (source) *source = "token_sha256";
    return digest;
}

/// token / token_file / token_sha256 of a section holding an optional digest.
template <class S>
void add_secret_keys(Section<S>& section, std::optional<TokenDigest> S::*member) {
    section.keys.push_back(masked<S>("token", member, kLive));
    section.keys.push_back(read_together<S>("token_file"));
    section.keys.push_back(read_together<S>("token_sha256"));
}

// --- server -----------------------------------------------------------------

const Section<ServerTlsConfig>& server_tls() {
    static const Section<ServerTlsConfig> s{
        {
            field("cert_file", &ServerTlsConfig::cert_file, FileValue{}, kLive),
            field("key_file", &ServerTlsConfig::key_file, FileValue{}, kLive),
            field("client_ca_file", &ServerTlsConfig::client_ca_file, FileValue{}, kLive),
        },
        [](Reader& r, const YAML::Node& n, const std::string& p, ServerTlsConfig& t) {
            if (t.enabled() && t.key_file.empty()) {
                r.fail(n["key_file"] ? n["key_file"] : n, p + ".key_file", "needs a file");
            }
        }};
    return s;
}

const Section<ServerConfig>& server() {
    using S = ServerConfig;
    static const Section<S> s{
        {
            field("listen", &S::listen, ListenValue{}),
            field("threads", &S::threads, IntValue<int>{0, 256}),
            field("max_body_size", &S::max_body_size, SizeValue{kKiB, 1024 * kMiB}),
            field("idle_timeout", &S::idle_timeout, DurationValue{1s}),
            field("header_timeout", &S::header_timeout, DurationValue{100ms}),
            field("body_timeout", &S::body_timeout, DurationValue{100ms}),
            field("max_header_size", &S::max_header_size, SizeValue{kKiB, kMiB}),
            field("max_connections", &S::max_connections, IntValue<std::uint64_t>{1, 10'000'000}),
            field("max_connections_per_ip", &S::max_connections_per_ip,
                  IntValue<std::uint64_t>{1, 10'000'000}),
            field("max_inflight_bytes", &S::max_inflight_bytes, SizeValue{}),
            field("allow_from", &S::allow_from, CidrsValue{}),
            nested<S>(
                "tls", [](auto& s) -> auto& { return s.tls; }, server_tls()),
            field("idempotency_window", &S::idempotency_window, DurationValue{1s}),
            field("idempotency_max_keys", &S::idempotency_max_keys,
                  IntValue<std::uint64_t>{1, 100'000'000}),
            field("commit_timeout", &S::commit_timeout, DurationValue{100ms}),
            field("shutdown_timeout", &S::shutdown_timeout, DurationValue{}),
        },
        [](Reader& r, const YAML::Node& n, const std::string& p, S& s) {
            if (s.max_inflight_bytes < s.max_body_size) {
                r.fail(n["max_inflight_bytes"] ? n["max_inflight_bytes"] : n,
                       p + ".max_inflight_bytes",
                       "(" + format_size(s.max_inflight_bytes) +
                           ") must be at least server.max_body_size (" +
                           format_size(s.max_body_size) + ")");
            }
        }};
    return s;
}

// --- clickhouse -------------------------------------------------------------

/// A replica's URL, without user info: credentials written into it
/// (http://user:password@host) go to `credentials`, never into the URL that
/// chgate logs and shows. Messages never quote the user info.
std::string read_url(Reader& r, const YAML::Node& n, const std::string& path,
                     std::optional<UrlParts>& credentials) {
    const auto text = r.scalar(n, path);
    std::string error;
    auto parts = split_userinfo(text, error);
    if (!parts) r.fail(n, path, error);
    auto url = parts->url;
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
        r.fail(n, path,
               "\"" + url +
                   "\" must start with http:// or https:// (chgate speaks ClickHouse's HTTP "
                   "interface, port 8123 by default)");
    }
    if (url.find_first_of("?#") != std::string::npos) {
        r.fail(n, path, "must not carry a query string; use clickhouse.settings");
    }
    if (parts->has_userinfo) {
        if (credentials &&
            (credentials->user != parts->user || credentials->password != parts->password)) {
            r.fail(n, path,
                   "names other credentials than an earlier URL; give them once, in "
                   "clickhouse.user and clickhouse.password");
        }
        credentials = std::move(parts);
    }
    while (url.ends_with('/'))
        url.pop_back();
    return url;
}

/// clickhouse.cluster: the shards in remote_servers' order, each with its
/// weight and replicas. A URL may appear once in the whole cluster.
void read_cluster(Reader& r, const YAML::Node& node, const std::string& p, ClickHouseConfig& c,
                  std::optional<UrlParts>& credentials) {
    r.expect_map(node, p);
    r.check_keys(node, p, {"name", "discover", "shards", "http_port", "http_ports"});
    if (auto n = node["name"]) {
        c.cluster_name = r.scalar(n, p + ".name");
        if (!core::is_identifier(c.cluster_name)) {
            r.fail(n, p + ".name", "\"" + c.cluster_name + "\" is not a remote_servers name");
        }
    }
    if (auto n = node["discover"]) c.discover = r.boolean(n, p + ".discover");
    if (c.discover && c.cluster_name.empty()) {
        r.fail(node["discover"], p + ".name", "is needed with discover: the cluster to look up");
    }
    const auto shards = node["shards"];
    // Without shards, discover reads them from system.clusters, which names
    // each server's TCP port: its HTTP port comes from here.
    const bool discovered = !shards && c.discover;
    for (const char* key : {"http_port", "http_ports"}) {
        if (node[key] && !discovered) {
            r.fail(node[key], p + "." + key,
                   "applies only with discover and no shards (the servers are read from "
                   "system.clusters)");
        }
    }
    if (auto n = node["http_port"]) {
        c.http_port = static_cast<std::uint16_t>(r.integer(n, p + ".http_port", 1, 65535));
    }
    if (auto n = node["http_ports"]) {
        if (!n.IsMap() || n.size() == 0 || n.size() > 4 * core::kMaxShards) {
            r.fail(n, p + ".http_ports",
                   "must map each TCP port in system.clusters to that server's HTTP port, at "
                   "most " +
                       std::to_string(4 * core::kMaxShards) + " entries");
        }
        for (const auto& entry : n) {
            const auto kp = p + ".http_ports." + r.scalar(entry.first, p + ".http_ports");
            const auto tcp = r.integer(entry.first, kp, 1, 65535);
            c.http_ports[static_cast<std::uint16_t>(tcp)] =
                static_cast<std::uint16_t>(r.integer(entry.second, kp, 1, 65535));
        }
    }
    if (discovered) return;
    if (!shards || !shards.IsSequence() || shards.size() == 0) {
        r.fail(shards ? shards : node, p + ".shards",
               "must be a list of one or more shards, each {weight: N, replicas: [URL, ...]}");
    }
    if (shards.size() > core::kMaxShards) {
        r.fail(shards, p + ".shards",
               "has more than " + std::to_string(core::kMaxShards) + " shards");
    }
    std::set<std::string> seen;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < shards.size(); ++i) {
        const auto sp = p + ".shards[" + std::to_string(i) + "]";
        r.expect_map(shards[i], sp);
        r.check_keys(shards[i], sp, {"weight", "replicas"});
        ShardConfig shard;
        if (auto w = shards[i]["weight"]) {
            shard.weight = static_cast<std::uint32_t>(r.integer(w, sp + ".weight", 0, 1'000'000));
        }
        const auto replicas = shards[i]["replicas"];
        if (!replicas || !replicas.IsSequence() || replicas.size() == 0) {
            r.fail(replicas ? replicas : shards[i], sp + ".replicas",
                   "must be a list of one or more URLs");
        }
        for (std::size_t j = 0; j < replicas.size(); ++j) {
            const auto rp = sp + ".replicas[" + std::to_string(j) + "]";
            auto url = read_url(r, replicas[j], rp, credentials);
            if (!seen.insert(url).second) {
                r.fail(replicas[j], rp, "\"" + url + "\" is listed twice in the cluster");
            }
            shard.replicas.push_back(std::move(url));
        }
        total += shard.weight;
        c.shards.push_back(std::move(shard));
    }
    if (total == 0) r.fail(shards, p + ".shards", "needs a shard with a weight above 0");
}

void print_cluster(YAML::Emitter& out, const ClickHouseConfig& c) {
    if (c.shards.empty() && !c.discover) {
        out << YAML::Null;
        return;
    }
    out << YAML::BeginMap;
    if (!c.cluster_name.empty()) out << YAML::Key << "name" << YAML::Value << c.cluster_name;
    out << YAML::Key << "discover" << YAML::Value << c.discover;
    if (c.shards.empty()) {
        out << YAML::Key << "http_port" << YAML::Value;
        if (c.http_port == 0) {
            out << YAML::Null;  // the first url's port
        } else {
            out << c.http_port;
        }
        if (!c.http_ports.empty()) {
            out << YAML::Key << "http_ports" << YAML::Value << YAML::BeginMap;
            for (const auto& [tcp, http] : c.http_ports)
                out << YAML::Key << tcp << YAML::Value << http;
            out << YAML::EndMap;
        }
        out << YAML::EndMap;
        return;
    }
    out << YAML::Key << "shards" << YAML::Value << YAML::BeginSeq;
    const auto& shards = c.shards;
    for (const auto& s : shards) {
        out << YAML::BeginMap << YAML::Key << "weight" << YAML::Value << s.weight << YAML::Key
            << "replicas" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const auto& u : s.replicas)
            out << YAML::DoubleQuoted << u;
        out << YAML::EndSeq << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
}

/// clickhouse.cluster, read by read_endpoints (its URLs share the credentials
/// rule); printed and compared as one key.
Key<ClickHouseConfig> cluster_key() {
    using S = ClickHouseConfig;
    Key<S> k = read_together<S>("cluster");
    k.print = [](YAML::Emitter& out, const S& c) {
        out << YAML::Key << "cluster" << YAML::Value;
        print_cluster(out, c);
    };
    // A new list of shards applies live (new rows are placed by it; rows
    // placed before go to their shards); how the cluster is found does not.
    auto same_source = [](const S& a, const S& b) {
        return a.cluster_name == b.cluster_name && a.discover == b.discover &&
               a.http_port == b.http_port && a.http_ports == b.http_ports &&
               a.shards.empty() == b.shards.empty() && a.urls_from_cluster == b.urls_from_cluster;
    };
    k.diff = [same_source](const S& a, const S& b, const std::string& path, ConfigChanges& out) {
        if (!same_source(a, b)) {
            note_change(Reload::restart, path, out);
        } else if (a.shards != b.shards) {
            note_change(kLive, path + ".shards", out);
        }
    };
    k.apply = [same_source](S& to, const S& from) {
        if (same_source(to, from)) to.shards = from.shards;
    };
    return k;
}

/// url (one replica) or urls (several), user and password: credentials may
/// be written into the URLs instead, but only in one place. With a cluster
/// and neither url nor urls, tables without shard_by go to any of its replicas.
void read_endpoints(Reader& r, const YAML::Node& node, const std::string& p, ClickHouseConfig& c) {
    if (node["url"] && node["urls"])
        r.fail(node["urls"], p + ".urls", "give url or urls, not both");
    std::optional<UrlParts> credentials;
    if (auto n = node["cluster"]; n && !n.IsNull()) {
        read_cluster(r, n, p + ".cluster", c, credentials);
        if (c.shards.empty() && !node["url"] && !node["urls"]) {
            r.fail(n, p + ".url",
                   "or urls is needed with discover and no shards: the servers to read "
                   "system.clusters from");
        }
        if (!node["url"] && !node["urls"]) {
            c.urls_from_cluster = true;
            c.urls.clear();
            for (const auto& s : c.shards)
                c.urls.insert(c.urls.end(), s.replicas.begin(), s.replicas.end());
        }
    }
    if (auto n = node["url"]) c.urls = {read_url(r, n, p + ".url", credentials)};
    if (auto n = node["urls"]) {
        if (!n.IsSequence() || n.size() == 0) {
            r.fail(n, p + ".urls", "must be a list of one or more URLs");
        }
        c.urls.clear();
        for (std::size_t i = 0; i < n.size(); ++i) {
            c.urls.push_back(
                read_url(r, n[i], p + ".urls[" + std::to_string(i) + "]", credentials));
        }
    }
    if (auto n = node["user"]) c.user = r.scalar(n, p + ".user");
    if (auto n = node["password"]) c.password = r.scalar(n, p + ".password");
    if (!credentials) return;
    if (node["user"] || node["password"]) {
        r.fail(node["user"] ? node["user"] : node["password"],
               p + (node["user"] ? ".user" : ".password"),
               "the URL carries credentials too; give them in one place");
    }
    c.user = credentials->user;
    c.password = credentials->password;
}

void read_error_classes(Reader& r, const YAML::Node& n, const std::string& p, ClickHouseConfig& c) {
    r.expect_map(n, p);
    for (const auto& entry : n) {
        const auto key = r.key(entry.first, p);
        const auto path = p + "." + key;
        int code = 0;
        auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), code);
        if (ec != std::errc{} || ptr != key.data() + key.size() || code <= 0) {
            r.fail(entry.first, path, "is not a ClickHouse error code (a positive number)");
        }
        c.error_classes[code] = r.choice(entry.second, path, kErrorActionNames);
    }
}

void read_settings(Reader& r, const YAML::Node& n, const std::string& p, ClickHouseConfig& c) {
    if (n.IsNull()) return;
    r.expect_map(n, p);
    for (const auto& entry : n) {
        const auto name = r.key(entry.first, p);
        const auto path = p + "." + name;
        if (!core::is_identifier(name))
            r.fail(entry.first, path, "is not a ClickHouse setting name");
        if (name == "query" || name == "database" || name == "user" || name == "password" ||
            name == "insert_deduplication_token") {
            r.fail(entry.first, path, "is set by chgate itself and cannot be overridden");
        }
        auto value = r.scalar(entry.second, path);
        // ClickHouse's boolean settings are numbers; YAML's true/false are not.
        if (value == "true") value = "1";
        if (value == "false") value = "0";
        c.settings[name] = value;
    }
}

const Section<ClientTlsConfig>& clickhouse_tls() {
    static const Section<ClientTlsConfig> s{
        {
            field("ca_file", &ClientTlsConfig::ca_file, FileValue{}),
            field("cert_file", &ClientTlsConfig::cert_file, FileValue{}),
            field("key_file", &ClientTlsConfig::key_file, FileValue{}),
            field("verify", &ClientTlsConfig::verify, BoolValue{}),
        },
        [](Reader& r, const YAML::Node& n, const std::string& p, ClientTlsConfig& t) {
            if (!t.cert_file.empty() && t.key_file.empty()) {
                r.fail(n["key_file"] ? n["key_file"] : n, p + ".key_file", "needs a file");
            }
        }};
    return s;
}

const Section<ClickHouseConfig>& clickhouse_breaker() {
    using S = ClickHouseConfig;
    static const Section<S> s{{
        field("failures", &S::breaker_failures, IntValue<int>{1, 1000}),
        field("cooldown", &S::breaker_cooldown, DurationValue{100ms}),
    }};
    return s;
}

const Section<ClickHouseConfig>& clickhouse_retry() {
    using S = ClickHouseConfig;
    static const Section<S> s{{
                                  field("initial", &S::retry_initial, DurationValue{1ms}),
                                  field("max", &S::retry_max, DurationValue{}),
                                  field("multiplier", &S::retry_multiplier, NumberValue{1.0, 10.0}),
                              },
                              [](Reader& r, const YAML::Node& n, const std::string& p, S& c) {
                                  if (c.retry_max < c.retry_initial) {
                                      r.fail(n["max"] ? n["max"] : n, p + ".max",
                                             "must be at least retry.initial");
                                  }
                              }};
    return s;
}

/// clickhouse.create_tables: each pattern must name readable SQL files now.
struct SqlFilesValue {
    std::vector<std::string> read(Reader& r, const YAML::Node& n, const std::string& p) const {
        if (!n.IsSequence()) r.fail(n, p, "must be a list of SQL files (paths or globs)");
        std::vector<std::string> out;
        for (std::size_t j = 0; j < n.size(); ++j)
            out.push_back(r.scalar(n[j], p + "[" + std::to_string(j) + "]"));
        std::string error;
        if (!out.empty() && sql_files(out, error).empty()) r.fail(n, p, error);
        return out;
    }
    void print(YAML::Emitter& out, const std::vector<std::string>& v) const {
        out << YAML::Flow << v;
    }
};

const Section<ClickHouseConfig>& clickhouse() {
    using S = ClickHouseConfig;
    auto same = [](auto& s) -> auto& {
        return s;
    };
    // urls taken from the cluster follow its shards: the cluster key says
    // when those change.
    auto urls = custom<S>("urls", &S::urls, nullptr,
                          [](YAML::Emitter& out, const std::vector<std::string>& list) {
                              out << YAML::BeginSeq;
                              for (const auto& u : list)
                                  out << YAML::DoubleQuoted << u;
                              out << YAML::EndSeq;
                          });
    urls.diff = [](const S& a, const S& b, const std::string& path, ConfigChanges& out) {
        if (a.urls != b.urls && !(a.urls_from_cluster && b.urls_from_cluster))
            note_change(Reload::restart, path, out);
    };
    static const Section<S> s{
        {
            urls,
            read_together<S>("url"),
            cluster_key(),
            nested<S>("circuit_breaker", same, clickhouse_breaker()),
            nested<S>(
                "tls", [](auto& s) -> auto& { return s.tls; }, clickhouse_tls()),
            field("database", &S::database, IdentifierValue{}),
            custom<S>("user", &S::user, nullptr,
                      [](YAML::Emitter& out, const std::string& u) { out << u; }),
            masked<S>("password", &S::password, Reload::restart),
            field("timeout", &S::timeout, DurationValue{100ms}),
            field("max_concurrent_inserts", &S::max_concurrent_inserts, IntValue<int>{1, 64}),
            field("probe_interval", &S::probe_interval, DurationValue{100ms}),
            field("schema_refresh", &S::schema_refresh, DurationValue{1s}),
            field("create_tables", &S::create_tables, SqlFilesValue{}),
            field("hold_probe_interval", &S::hold_probe_interval, DurationValue{100ms}),
            field("hold_max", &S::hold_max, DurationValue{1s}),
            field("max_inserts_per_batch", &S::max_inserts_per_batch,
                  IntValue<std::uint64_t>{2, 100'000}),
            nested<S>("retry", same, clickhouse_retry()),
            custom<S>("error_classes", &S::error_classes, read_error_classes,
                      [](YAML::Emitter& out, const std::map<int, ErrorAction>& classes) {
                          out << YAML::BeginMap;
                          for (const auto& [code, action] : classes)
                              out << YAML::Key << code << YAML::Value << to_string(action);
                          out << YAML::EndMap;
                      }),
            custom<S>("settings", &S::settings, read_settings,
                      [](YAML::Emitter& out, const std::map<std::string, std::string>& settings) {
                          out << YAML::BeginMap;
                          for (const auto& [k, v] : settings)
                              out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
                          out << YAML::EndMap;
                      }),
        },
        read_endpoints};
    return s;
}

// --- batching ---------------------------------------------------------------

/// The batch configuration guide's presets: low_latency keeps batches of a
/// few rows and waits only milliseconds; mega_batch gathers tens of thousands
/// of rows and accepts seconds of delay.
void apply_strategy_preset(const std::string& name, TableConfig& t) {
    if (name == "low_latency") {
        t.max_batch_size = 5;
        t.max_batch_time = 10ms;
    } else if (name == "mega_batch") {
        t.max_batch_size = 50'000;
        t.max_batch_time = 5s;
        t.max_memory = 64 * kMiB;
    }
}

/// shard_by: "rand()", "cityHash64(field)" or "field".
struct ShardByValue {
    std::optional<core::ShardBy> read(Reader& r, const YAML::Node& n,
                                      const std::string& path) const {
        if (n.IsNull()) return std::nullopt;
        std::string error;
        auto by = core::parse_shard_by(r.scalar(n, path), error);
        if (!by) r.fail(n, path, error);
        return by;
    }
    void print(YAML::Emitter& out, const std::optional<core::ShardBy>& v) const {
        if (v) {
            out << YAML::DoubleQuoted << core::to_string(*v);
        } else {
            out << YAML::Null;
        }
    }
};

/// local_table: an identifier; ~ (null) for none.
struct LocalTableValue {
    std::string read(Reader& r, const YAML::Node& n, const std::string& path) const {
        return n.IsNull() ? std::string() : IdentifierValue{}.read(r, n, path);
    }
    void print(YAML::Emitter& out, const std::string& v) const {
        if (v.empty()) {
            out << YAML::Null;
        } else {
            out << v;
        }
    }
};

/// quarantine_table: an identifier in which {table} stands for the table's name.
struct QuarantineTableValue {
    std::string read(Reader& r, const YAML::Node& n, const std::string& path) const {
        const auto text = r.scalar(n, path);
        TableConfig with;
        with.quarantine_table = text;
        const auto probe = quarantine_table_of(with, "t");
        if (!core::is_identifier(probe)) {
            std::string message = "\"";
            message.append(text).append(
                "\" is not a table name ([A-Za-z_][A-Za-z0-9_]*) in which {table} stands for the "
                "table's");
            r.fail(n, path, message);
        }
        return text;
    }
    void print(YAML::Emitter& out, const std::string& v) const { out << YAML::DoubleQuoted << v; }
};

/// create: {columns: {name: Type, ...}, engine, order_by, partition_by}; ~ for none.
struct CreateValue {
    // SQL that chgate pastes into a CREATE: one statement, no comment.
    static std::string sql_part(Reader& r, const YAML::Node& n, const std::string& path) {
        auto text = r.scalar(n, path);
        if (text.size() > 1000 || text.find(';') != std::string::npos ||
            text.find("--") != std::string::npos || text.find("/*") != std::string::npos ||
            text.find_first_of("\n\r`") != std::string::npos) {
            r.fail(n, path,
                   "must be one line of SQL of at most 1000 characters, without ; -- /* or `");
        }
        return text;
    }
    std::optional<TableCreate> read(Reader& r, const YAML::Node& n, const std::string& path) const {
        if (n.IsNull()) return std::nullopt;
        r.expect_map(n, path);
        r.check_keys(n, path, {"columns", "engine", "order_by", "partition_by"});
        TableCreate c;
        const auto columns = n["columns"];
        const auto cp = path + ".columns";
        if (!columns || !columns.IsMap() || columns.size() == 0) {
            r.fail(columns ? columns : n, cp, "must map each column's name to its type");
        }
        if (columns.size() > 1000) r.fail(columns, cp, "has more than 1000 columns");
        for (const auto& entry : columns) {
            auto name = r.key(entry.first, cp);
            if (!core::is_identifier(name)) {
                r.fail(entry.first, cp,
                       "\"" + name + "\" is not a plain identifier [A-Za-z_][A-Za-z0-9_]*");
            }
            auto type = sql_part(r, entry.second, cp + "." + name);
            if (type.empty()) r.fail(entry.second, cp + "." + name, "must be a type");
            c.columns.emplace_back(std::move(name), std::move(type));
        }
        if (auto e = n["engine"]) c.engine = sql_part(r, e, path + ".engine");
        if (auto o = n["order_by"]) c.order_by = sql_part(r, o, path + ".order_by");
        if (auto p = n["partition_by"]) c.partition_by = sql_part(r, p, path + ".partition_by");
        return c;
    }
    void print(YAML::Emitter& out, const std::optional<TableCreate>& v) const {
        if (!v) {
            out << YAML::Null;
            return;
        }
        out << YAML::BeginMap << YAML::Key << "columns" << YAML::Value << YAML::BeginMap;
        for (const auto& [name, type] : v->columns)
            out << YAML::Key << name << YAML::Value << YAML::DoubleQuoted << type;
        out << YAML::EndMap << YAML::Key << "engine" << YAML::Value << YAML::DoubleQuoted
            << v->engine << YAML::Key << "order_by" << YAML::Value << YAML::DoubleQuoted
            << v->order_by << YAML::Key << "partition_by" << YAML::Value << YAML::DoubleQuoted
            << v->partition_by << YAML::EndMap;
    }
};

/// new_column_pattern: an ECMAScript regular expression that compiles.
struct NamePatternValue {
    std::string read(Reader& r, const YAML::Node& n, const std::string& path) const {
        auto text = r.scalar(n, path);
        if (text.empty() || text.size() > 1000) {
            r.fail(n, path, "must be a regular expression of 1 to 1000 characters");
        }
        try {
            const std::regex compiled(text, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            r.fail(n, path, "is not a regular expression (" + std::string(e.what()) + ")");
        }
        return text;
    }
    void print(YAML::Emitter& out, const std::string& v) const { out << YAML::DoubleQuoted << v; }
};

struct MaxAgeValue {
    Duration read(Reader& r, const YAML::Node& n, const std::string& path) const {
        if (r.scalar(n, path) == "auto") return Duration{0};
        const auto v = r.duration(n, path);
        if (v < 1ms) r.fail(n, path, "must be at least 1ms, or auto");
        return v;
    }
    void print(YAML::Emitter& out, Duration v) const {
        out << (v == Duration{0} ? std::string("auto") : format_duration(v));
    }
};

/// Which keys a strategy does not use, so that --check-config can say so.
std::vector<std::string_view> ignored_keys(StrategyKind kind) {
    switch (kind) {
        case StrategyKind::immediate:
        case StrategyKind::memory:
            return {"max_batch_size", "max_batch_time", "min_batch_size", "target_latency"};
        case StrategyKind::time:
        case StrategyKind::hybrid:
            return {"min_batch_size", "target_latency"};
        case StrategyKind::size:
            return {"max_batch_time", "min_batch_size", "target_latency"};
        case StrategyKind::adaptive:
            return {};
    }
    return {};
}

Key<TableConfig> strategy_key() {
    using S = TableConfig;
    Key<S> k = field("strategy", &S::strategy_name, TextValue{});
    k.read = [](Reader& r, const YAML::Node& n, const std::string& path, S& t) {
        t.strategy = r.choice(n, path, kStrategyNames, "a strategy");
        t.strategy_name = r.scalar(n, path);
        apply_strategy_preset(t.strategy_name, t);
    };
    k.print = [](YAML::Emitter& out, const S& t) {
        out << YAML::Key << "strategy" << YAML::Value << t.strategy_name;
    };
    return k;
}

}  // namespace

const Section<TableConfig>& table_schema() {
    using S = TableConfig;
    // The strategy comes first: a preset's values are overlaid by the keys after it.
    static const Section<S> s{
        {
            strategy_key(),
            field("max_batch_size", &S::max_batch_size, IntValue<std::uint64_t>{1, 10'000'000}),
            field("max_batch_time", &S::max_batch_time, DurationValue{}),
            field("max_memory", &S::max_memory, SizeValue{}),
            field("max_age", &S::max_age, MaxAgeValue{}),
            field("priority", &S::priority, IntValue<int>{1, 10}),
            field("compression", &S::compression, one_of(kCompressionNames)),
            field("retry_attempts", &S::retry_attempts, IntValue<int>{0, 100}),
            field("ack", &S::ack, one_of(kAckNames)),
            field("failure_strategy", &S::failure_strategy, one_of(kFailureStrategyNames)),
            field("min_batch_size", &S::min_batch_size, IntValue<std::uint64_t>{1, 10'000'000}),
            field("target_latency", &S::target_latency, DurationValue{}),
            field("distributed", &S::distributed, BoolValue{}),
            field("shard_by", &S::shard_by, ShardByValue{}),
            field("local_table", &S::local_table, LocalTableValue{}),
            field("schema", &S::schema, one_of(kSchemaCheckNames)),
            field("unknown_fields", &S::unknown_fields, one_of(kUnknownFieldsNames)),
            field("on_invalid", &S::on_invalid, one_of(kOnInvalidNames)),
            field("quarantine_table", &S::quarantine_table, QuarantineTableValue{}),
            field("create", &S::create, CreateValue{}),
            field("schema_evolution", &S::schema_evolution, one_of(kSchemaEvolutionNames)),
            field("max_columns", &S::max_columns, IntValue<std::uint32_t>{1, 10000}),
            field("new_column_pattern", &S::new_column_pattern, NamePatternValue{}),
            field("max_alters_per_minute", &S::max_alters_per_minute, IntValue<int>{1, 600}),
            field("insert_format", &S::insert_format, one_of(kInsertFormatNames)),
        },
        [](Reader& r, const YAML::Node& n, const std::string& p, S& t) {
            for (auto key : ignored_keys(t.strategy)) {
                if (auto m = n[std::string(key)]) {
                    r.warn(m, join(p, key),
                           "strategy " + t.strategy_name + " does not use this key");
                }
            }
        }};
    return s;
}

namespace {

/// Checks one merged table. `node` is where errors point.
void validate_table(Reader& r, const YAML::Node& node, const std::string& p, TableConfig t,
                    std::uint64_t gateway_memory) {
    t = resolve_max_age(t);
    const bool uses_time = t.strategy == StrategyKind::time || t.strategy == StrategyKind::hybrid ||
                           t.strategy == StrategyKind::adaptive;
    if (uses_time && t.max_batch_time < 1ms) {
        r.fail(node, p + ".max_batch_time",
               "must be at least 1ms for strategy " + t.strategy_name +
                   " (use strategy: immediate to send every request at once)");
    }
    if (uses_time && t.max_age < t.max_batch_time) {
        r.fail(node, p + ".max_age",
               "(" + format_duration(t.max_age) + ") must be at least max_batch_time (" +
                   format_duration(t.max_batch_time) + ")");
    }
    if (t.max_memory < 4 * kKiB) r.fail(node, p + ".max_memory", "must be at least 4KiB");
    if (t.max_memory > gateway_memory) {
        r.fail(node, p + ".max_memory",
               "(" + format_size(t.max_memory) + ") is more than batching.max_memory (" +
                   format_size(gateway_memory) + ")");
    }
    if (t.shard_by && t.local_table.empty()) {
        r.fail(node, p + ".local_table",
               "is needed with shard_by: the shards' table that chgate inserts into");
    }
    if (!t.shard_by && !t.local_table.empty()) {
        r.fail(node, p + ".shard_by", "is needed with local_table: how rows pick their shard");
    }
    if (t.shard_by && t.distributed) {
        r.fail(node, p + ".distributed",
               "and shard_by exclude each other: with shard_by chgate inserts into each shard's "
               "local_table itself");
    }
    if (t.schema_evolution == SchemaEvolution::add_columns) {
        if (t.schema == SchemaCheck::off) {
            r.fail(node, p + ".schema_evolution",
                   "add_columns needs schema: check or coerce: new fields are found by checking "
                   "events against the table's columns");
        }
        if (t.unknown_fields == UnknownFields::ignore) {
            r.fail(node, p + ".schema_evolution",
                   "add_columns and unknown_fields: ignore exclude each other: a field that "
                   "cannot become a column is refused, not skipped");
        }
        if (t.distributed) {
            r.fail(node, p + ".schema_evolution",
                   "add_columns cannot alter a Distributed table's shards (distributed: true); "
                   "use shard_by with local_table, or add the columns yourself");
        }
    }
    if (t.strategy == StrategyKind::adaptive) {
        if (t.min_batch_size > t.max_batch_size) {
            r.fail(node, p + ".min_batch_size",
                   "(" + std::to_string(t.min_batch_size) + ") is more than max_batch_size (" +
                       std::to_string(t.max_batch_size) + ")");
        }
        if (t.target_latency < 1ms) r.fail(node, p + ".target_latency", "must be at least 1ms");
    }
}

/// batching.defaults, then each table over them: a table's keys are read
/// after the defaults whatever their order in the file.
void read_tables(Reader& r, const YAML::Node& node, const std::string& p, BatchingConfig& b) {
    // The built-in table quota must fit a small gateway budget unless set explicitly.
    b.defaults.max_memory = std::min(b.defaults.max_memory, b.max_memory);
    const auto defaults = node["defaults"];
    if (defaults) read_section(r, defaults, p + ".defaults", table_schema(), b.defaults);
    if (b.defaults.shard_by || !b.defaults.local_table.empty()) {
        r.fail(defaults, p + ".defaults",
               "cannot give shard_by or local_table: they name one table's columns and shards; "
               "give them per table");
    }
    validate_table(r, defaults ? defaults : node, p + ".defaults", b.defaults, b.max_memory);
    const auto tables = node["tables"];
    if (!tables || tables.IsNull()) return;
    r.expect_map(tables, p + ".tables");
    for (const auto& entry : tables) {
        const auto name = r.key(entry.first, p + ".tables");
        const auto tp = p + ".tables." + name;
        core::TableName parsed;
        if (!core::parse_table_name(name, parsed)) {
            r.fail(entry.first, tp,
                   "\"" + name +
                       "\" is not a table name: use an identifier [A-Za-z_][A-Za-z0-9_]*, "
                       "optionally db-qualified as db.table");
        }
        TableConfig t = b.defaults;
        if (!entry.second.IsNull()) read_section(r, entry.second, tp, table_schema(), t);
        t = resolve_max_age(t);
        validate_table(r, entry.second.IsNull() ? entry.first : entry.second, tp, t, b.max_memory);
        b.tables.emplace(name, t);
    }
}

Key<BatchingConfig> defaults_key() {
    using S = BatchingConfig;
    Key<S> k = read_together<S>("defaults");
    k.reload = kLive;
    k.print = [](YAML::Emitter& out, const S& b) {
        out << YAML::Key << "defaults" << YAML::Value;
        print_section(out, table_schema(), b.defaults);
    };
    k.diff = [](const S& a, const S& b, const std::string& path, ConfigChanges& out) {
        if (a.defaults != b.defaults) out.live.push_back(path);
    };
    k.apply = [](S& to, const S& from) { to.defaults = from.defaults; };
    return k;
}

/// Each table is one path in a diff: batching.tables.{name}.
Key<BatchingConfig> tables_key() {
    using S = BatchingConfig;
    Key<S> k = read_together<S>("tables");
    k.reload = kLive;
    k.print = [](YAML::Emitter& out, const S& b) {
        out << YAML::Key << "tables" << YAML::Value << YAML::BeginMap;
        for (const auto& [name, t] : b.tables) {
            out << YAML::Key << name << YAML::Value;
            print_section(out, table_schema(), t);
        }
        out << YAML::EndMap;
    };
    k.diff = [](const S& a, const S& b, const std::string& path, ConfigChanges& out) {
        std::set<std::string> names;
        for (const auto* m : {&a.tables, &b.tables}) {
            for (const auto& [name, t] : *m)
                names.insert(name);
        }
        for (const auto& name : names) {
            const auto x = a.tables.find(name);
            const auto y = b.tables.find(name);
            if (x == a.tables.end() || y == b.tables.end() || x->second != y->second) {
                out.live.push_back(path + "." + name);
            }
        }
    };
    k.apply = [](S& to, const S& from) { to.tables = from.tables; };
    return k;
}

const Section<BatchingConfig>& batching() {
    using S = BatchingConfig;
    static const Section<S> s{
        {
            field("enabled", &S::enabled, BoolValue{}),
            field("max_memory", &S::max_memory, SizeValue{kMiB}, kLive),
            field("unknown_tables", &S::unknown_tables, one_of(kUnknownTablesNames)),
            field("max_tables", &S::max_tables, IntValue<std::uint64_t>{1, 100'000}),
            field("max_buffers_per_table", &S::max_buffers_per_table,
                  IntValue<std::uint64_t>{0, 10'000}),
            field("idle_buffer_ttl", &S::idle_buffer_ttl, DurationValue{1s}),
            defaults_key(),
            tables_key(),
        },
        read_tables};
    return s;
}

// --- storage, readiness, log ------------------------------------------------

const Section<StorageConfig>& storage() {
    using S = StorageConfig;
    static const Section<S> s{
        {
            field("dir", &S::dir, TextValue{true}),
            field("fsync", &S::fsync, one_of(kFsyncNames)),
            field("fsync_interval", &S::fsync_interval, DurationValue{1ms}),
            field("segment_size", &S::segment_size, SizeValue{kMiB}),
            field("preallocate", &S::preallocate, SizeValue{}),
            field("max_disk", &S::max_disk, SizeValue{}),
            field("spool_replay_rate", &S::spool_replay_rate,
                  SizeValue{64 * kKiB, UINT64_MAX, " (per second)"}),
            field("dead_letter_retention", &S::dead_letter_retention, DurationValue{}),
        },
        [](Reader& r, const YAML::Node& n, const std::string& p, S& s) {
            if (s.preallocate > s.segment_size) {
                r.fail(n["preallocate"] ? n["preallocate"] : n, p + ".preallocate",
                       "must not be more than storage.segment_size (" +
                           format_size(s.segment_size) + ")");
            }
        }};
    return s;
}

const Section<ReadinessConfig>& readiness() {
    using S = ReadinessConfig;
    static const Section<S> s{{
        field("held_tables", &S::held_tables, BoolValue{}),
        field("max_lag", &S::max_lag, DurationValue{}),
        field("max_spool_bytes", &S::max_spool_bytes, SizeValue{}),
    }};
    return s;
}

const Section<LogConfig>& log_rate_limit() {
    using S = LogConfig;
    static const Section<S> s{{
        field("lines", &S::rate_limit_lines, IntValue<std::uint32_t>{0, 1'000'000}, kLive),
        field("interval", &S::rate_limit_interval, DurationValue{100ms}, kLive),
    }};
    return s;
}

const Section<LogConfig>& log_section() {
    using S = LogConfig;
    static const Section<S> s{{
        field("level", &S::level, one_of(kLogLevelNames), kLive),
        field("format", &S::format, one_of(kLogFormatNames), kLive),
        nested<S>(
            "rate_limit", [](auto& s) -> auto& { return s; }, log_rate_limit()),
    }};
    return s;
}

// --- auth, admin, metrics ---------------------------------------------------

bool is_token_name(const std::string& name) {
    return !name.empty() && name.size() <= 64 &&
           name.find_first_not_of(
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789_.-") == std::string::npos;
}

bool is_table_glob(const std::string& glob) {
    return !glob.empty() && glob.find_first_not_of(
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789_.*?") == std::string::npos;
}

struct GlobsValue {
    std::vector<std::string> read(Reader& r, const YAML::Node& n, const std::string& p) const {
        if (!n.IsSequence()) r.fail(n, p, "must be a list of table globs");
        std::vector<std::string> out;
        for (std::size_t j = 0; j < n.size(); ++j) {
            const auto path = p + "[" + std::to_string(j) + "]";
            auto glob = r.scalar(n[j], path);
            if (!is_table_glob(glob)) {
                r.fail(n[j], path,
                       "must be a table name or glob: letters, digits, _, . and the wildcards * "
                       "and ?");
            }
            out.push_back(std::move(glob));
        }
        return out;
    }
    void print(YAML::Emitter& out, const std::vector<std::string>& v) const {
        out << YAML::Flow << v;
    }
};

const Section<TokenConfig>& token_entry() {
    using S = TokenConfig;
    Key<S> token = read_together<S>("token");
    // Never the token: where it came from, and that it is set.
    token.print = [](YAML::Emitter& out, const S& t) {
        out << YAML::Key << "token" << YAML::Value << YAML::DoubleQuoted
            << ("******** (" + t.source + ")");
    };
    Key<S> name = read_together<S>("name");
    name.print = [](YAML::Emitter& out, const S& t) {
        out << YAML::Key << "name" << YAML::Value << t.name;
    };
    static const Section<S> s{
        {
            name,
            token,
            read_together<S>("token_file"),
            read_together<S>("token_sha256"),
            field("tables", &S::tables, GlobsValue{}),
            field("max_events_per_second", &S::max_events_per_second,
                  IntValue<std::uint64_t>{0, 1'000'000'000}),
            field("max_bytes_per_second", &S::max_bytes_per_second, SizeValue{}),
        },
        [](Reader& r, const YAML::Node& n, const std::string& p, S& t) {
            if (!n["name"]) r.fail(n, p, "needs a name (shown in /metrics instead of the token)");
            t.name = r.scalar(n["name"], p + ".name");
            if (!is_token_name(t.name)) {
                r.fail(n["name"], p + ".name",
                       "must be 1 to 64 characters of letters, digits, _ . -");
            }
            // An empty token (an unset ${VAR:-}) leaves the entry out (an
            // empty source says so): one file serves a loopback setup with
            // no tokens and a real one.
            if (auto digest = read_secret(r, n, p, true, &t.source)) t.digest = *digest;
        }};
    return s;
}

void read_tokens(Reader& r, const YAML::Node& tokens, const std::string& p, AuthConfig& a) {
    if (tokens.IsNull()) return;
    if (!tokens.IsSequence()) r.fail(tokens, p, "must be a list of tokens");
    a.tokens.clear();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const auto tp = p + "[" + std::to_string(i) + "]";
        TokenConfig token;
        read_section(r, tokens[i], tp, token_entry(), token);
        for (const auto& other : a.tokens) {
            if (other.name == token.name) r.fail(tokens[i]["name"], tp + ".name", "is used twice");
        }
        if (token.source.empty()) continue;
        for (const auto& other : a.tokens) {
            if (other.digest == token.digest)
                r.fail(tokens[i], tp, "has the same token as " + other.name);
        }
        a.tokens.push_back(std::move(token));
    }
}

const Section<AuthConfig>& auth() {
    using S = AuthConfig;
    static const Section<S> s{{
        field("allow_anonymous", &S::allow_anonymous, BoolValue{}, kLive),
        custom<S>(
            "tokens", &S::tokens, read_tokens,
            [](YAML::Emitter& out, const std::vector<TokenConfig>& tokens) {
                out << YAML::BeginSeq;
                for (const auto& t : tokens) {
                    out << YAML::Flow;
                    print_section(out, token_entry(), t);
                }
                out << YAML::EndSeq;
            },
            kLive),
    }};
    return s;
}

Section<AdminConfig> make_admin() {
    Section<AdminConfig> s;
    add_secret_keys(s, &AdminConfig::token);
    s.keys.push_back(field("allow_from", &AdminConfig::allow_from, CidrsValue{}, kLive));
    s.finish = [](Reader& r, const YAML::Node& n, const std::string& p, AdminConfig& a) {
        a.token = read_secret(r, n, p, false);
    };
    return s;
}

Section<MetricsConfig> make_metrics() {
    Section<MetricsConfig> s;
    add_secret_keys(s, &MetricsConfig::token);
    s.finish = [](Reader& r, const YAML::Node& n, const std::string& p, MetricsConfig& m) {
        m.token = read_secret(r, n, p, false);
    };
    return s;
}

/// Ingest with no token is open only where nobody else can reach it: on a
/// loopback address, unless auth.allow_anonymous says otherwise.
void check_exposure(Reader& r, const YAML::Node& root, const Config& c) {
    std::string error;
    const auto address = parse_listen_address(c.server.listen, error);
    const bool loopback = address && is_loopback_host(address->host);
    const auto listen =
        root["server"] && root["server"]["listen"] ? root["server"]["listen"] : root;
    if (!loopback && c.auth.tokens.empty() && !c.auth.allow_anonymous) {
        r.fail(listen, "server.listen",
               "is " + c.server.listen +
                   ", reachable from other machines, and auth.tokens is empty: anyone could "
                   "write to any table. Give each app a token (auth.tokens), listen on "
                   "127.0.0.1, or set auth.allow_anonymous: true");
    }
    if (!loopback && c.auth.allow_anonymous && c.auth.tokens.empty()) {
        r.warn(listen, "auth.allow_anonymous",
               "is true and server.listen is not loopback: anyone who can reach " +
                   c.server.listen + " can write to every table");
    }
}

/// Two entries of batching.tables may not name one table ("events" and
/// "default.events" when clickhouse.database is default).
void check_table_names(Reader& r, const YAML::Node& root, const Config& c) {
    const auto tables = root["batching"] ? root["batching"]["tables"] : YAML::Node();
    if (!tables || !tables.IsMap()) return;
    std::set<std::string> qualified_names;
    for (const auto& entry : tables) {
        const auto name = entry.first.Scalar();
        core::TableName parsed;
        core::parse_table_name(name, parsed);
        const auto qualified = (parsed.database.empty() ? c.clickhouse.database : parsed.database) +
                               "." + parsed.table;
        if (!qualified_names.insert(qualified).second) {
            r.fail(entry.first, "batching.tables." + name,
                   "names the same table as another entry (" + qualified + ")");
        }
    }
}

/// shard_by needs the shards: clickhouse.cluster.
void check_sharded_tables(Reader& r, const YAML::Node& root, const Config& c) {
    if (!c.clickhouse.shards.empty() || c.clickhouse.discover) return;
    for (const auto& [name, t] : c.batching.tables) {
        if (!t.shard_by) continue;
        const auto node = root["batching"]["tables"][name];
        r.fail(node["shard_by"] ? node["shard_by"] : node, "batching.tables." + name + ".shard_by",
               "needs clickhouse.cluster.shards: the shards rows are sent to");
    }
}

}  // namespace

const Section<Config>& config_schema() {
    using S = Config;
    static const Section<AdminConfig> admin = make_admin();
    static const Section<MetricsConfig> metrics = make_metrics();
    static const Section<S> s{
        {
            nested<S>(
                "server", [](auto& c) -> auto& { return c.server; }, server()),
            nested<S>(
                "clickhouse", [](auto& c) -> auto& { return c.clickhouse; }, clickhouse()),
            nested<S>(
                "batching", [](auto& c) -> auto& { return c.batching; }, batching()),
            nested<S>(
                "storage", [](auto& c) -> auto& { return c.storage; }, storage()),
            nested<S>(
                "readiness", [](auto& c) -> auto& { return c.readiness; }, readiness()),
            nested<S>(
                "auth", [](auto& c) -> auto& { return c.auth; }, auth()),
            nested<S>(
                "admin", [](auto& c) -> auto& { return c.admin; }, admin),
            nested<S>(
                "metrics", [](auto& c) -> auto& { return c.metrics; }, metrics),
            nested<S>(
                "log", [](auto& c) -> auto& { return c.log; }, log_section()),
        },
        [](Reader& r, const YAML::Node& root, const std::string&, S& c) {
            check_table_names(r, root, c);
            check_sharded_tables(r, root, c);
            check_exposure(r, root, c);
        }};
    return s;
}

}  // namespace chgate::config::keys
