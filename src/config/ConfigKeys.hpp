#pragma once

// One key list per configuration section. Each key says its name, how it is
// read (parser and bounds), how it is printed, and whether a reload applies
// it; the loader, the printer (--print-config), the diff and the reload all
// walk the same lists, so a key is described once. The lists are in
// ConfigSchema.cpp.

#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/Config.hpp"
#include "config/ConfigDiff.hpp"
#include "config/ConfigReader.hpp"

namespace chgate::config::keys {

/// Whether a reload (SIGHUP, POST /admin/reload) puts a key in force.
enum class Reload { restart, live };

template <class S>
struct Key {
    std::string_view name;
    Reload reload = Reload::restart;
    /// Reads the key's node into the section. Null: the section's `finish`
    /// reads it, with keys read together (token, token_file, token_sha256).
    std::function<void(Reader&, const YAML::Node&, const std::string& path, S&)> read;
    /// Emits "name: value". Null: another key prints it.
    std::function<void(YAML::Emitter&, const S&)> print;
    /// Adds the key's path to `out` (live or restart) where `a` and `b` differ.
    std::function<void(const S& a, const S& b, const std::string& path, ConfigChanges& out)> diff;
    /// Copies what a reload applies from `from` into `to`. Null: nothing.
    std::function<void(S& to, const S& from)> apply;
};

template <class S>
struct Section {
    std::vector<Key<S>> keys;
    /// Runs after the keys have been read: keys read together, and checks
    /// across keys. Gets the section's node.
    std::function<void(Reader&, const YAML::Node&, const std::string& path, S&)> finish = {};
};

inline std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

template <class S>
void read_section(Reader& r, const YAML::Node& node, const std::string& path,
                  const Section<S>& section, S& out) {
    std::vector<std::string_view> names;
    for (const auto& k : section.keys)
        names.push_back(k.name);
    r.check_keys(node, path, names);
    for (const auto& k : section.keys) {
        if (!k.read) continue;
        if (auto n = node[std::string(k.name)]) k.read(r, n, join(path, k.name), out);
    }
    if (section.finish) section.finish(r, node, path, out);
}

template <class S>
void print_section(YAML::Emitter& out, const Section<S>& section, const S& s) {
    out << YAML::BeginMap;
    for (const auto& k : section.keys) {
        if (k.print) k.print(out, s);
    }
    out << YAML::EndMap;
}

template <class S>
void diff_section(const Section<S>& section, const S& a, const S& b, const std::string& path,
                  ConfigChanges& out) {
    for (const auto& k : section.keys) {
        if (k.diff) k.diff(a, b, join(path, k.name), out);
    }
}

template <class S>
void apply_section(const Section<S>& section, S& to, const S& from) {
    for (const auto& k : section.keys) {
        if (k.apply) k.apply(to, from);
    }
}

inline void note_change(Reload reload, const std::string& path, ConfigChanges& out) {
    (reload == Reload::live ? out.live : out.restart).push_back(path);
}

/// A key holding one member, of a value type `V` with
/// `T read(Reader&, node, path) const` and `void print(Emitter&, const T&) const`.
template <class S, class T, class V>
Key<S> field(std::string_view name, T S::*member, V type, Reload reload = Reload::restart) {
    Key<S> k{name, reload, {}, {}, {}, {}};
    k.read = [member, type](Reader& r, const YAML::Node& n, const std::string& path, S& s) {
        s.*member = type.read(r, n, path);
    };
    k.print = [member, type, name](YAML::Emitter& out, const S& s) {
        out << YAML::Key << std::string(name) << YAML::Value;
        type.print(out, s.*member);
    };
    k.diff = [member, reload](const S& a, const S& b, const std::string& path, ConfigChanges& out) {
        if (!(a.*member == b.*member)) note_change(reload, path, out);
    };
    if (reload == Reload::live)
        k.apply = [member](S& to, const S& from) { to.*member = from.*member; };
    return k;
}

/// A key whose value is a mapping of its own keys (`server.tls`,
/// `clickhouse.retry`): `get` gives the part of S that the inner section
/// reads, which may be S itself.
template <class S, class Sub, class Get>
Key<S> nested(std::string_view name, Get get, const Section<Sub>& inner) {
    Key<S> k{name, Reload::restart, {}, {}, {}, {}};
    k.read = [get, &inner](Reader& r, const YAML::Node& n, const std::string& path, S& s) {
        read_section(r, n, path, inner, get(s));
    };
    k.print = [get, &inner, name](YAML::Emitter& out, const S& s) {
        out << YAML::Key << std::string(name) << YAML::Value;
        print_section(out, inner, get(s));
    };
    k.diff = [get, &inner](const S& a, const S& b, const std::string& path, ConfigChanges& out) {
        diff_section(inner, get(a), get(b), path, out);
    };
    k.apply = [get, &inner](S& to, const S& from) { apply_section(inner, get(to), get(from)); };
    return k;
}

/// A key that the section's `finish` reads together with others, and that a
/// neighbour prints and compares.
template <class S>
Key<S> read_together(std::string_view name) {
    return Key<S>{name, Reload::restart, {}, {}, {}, {}};
}

// --- value types ------------------------------------------------------------

struct SizeValue {
    std::uint64_t min = 0;
    std::uint64_t max = UINT64_MAX;
    std::string_view note = {};  ///< after the bound: " (per second)"
    std::uint64_t read(Reader& r, const YAML::Node& n, const std::string& path) const {
        const auto v = r.size(n, path);
        if (max != UINT64_MAX && (v < min || v > max)) {
            r.fail(n, path, "must be between " + format_size(min) + " and " + format_size(max));
        }
        if (v < min) r.fail(n, path, "must be at least " + format_size(min) + std::string(note));
        return v;
    }
    void print(YAML::Emitter& out, std::uint64_t v) const { out << format_size(v); }
};

struct DurationValue {
    Duration min{0};
    Duration read(Reader& r, const YAML::Node& n, const std::string& path) const {
        const auto v = r.duration(n, path);
        if (v < min) r.fail(n, path, "must be at least " + format_duration(min));
        return v;
    }
    void print(YAML::Emitter& out, Duration v) const { out << format_duration(v); }
};

template <class T>
struct IntValue {
    std::int64_t min;
    std::int64_t max;
    T read(Reader& r, const YAML::Node& n, const std::string& path) const {
        return static_cast<T>(r.integer(n, path, min, max));
    }
    void print(YAML::Emitter& out, T v) const { out << v; }
};

struct NumberValue {
    double min;
    double max;
    double read(Reader& r, const YAML::Node& n, const std::string& path) const {
        return r.number(n, path, min, max);
    }
    void print(YAML::Emitter& out, double v) const { out << v; }
};

struct BoolValue {
    bool read(Reader& r, const YAML::Node& n, const std::string& path) const {
        return r.boolean(n, path);
    }
    void print(YAML::Emitter& out, bool v) const { out << v; }
};

template <class E>
struct EnumValue {
    std::span<const core::EnumName<E>> names;
    E read(Reader& r, const YAML::Node& n, const std::string& path) const {
        return r.choice(n, path, names);
    }
    void print(YAML::Emitter& out, E v) const { out << std::string(core::name_of(names, v)); }
};
template <class E, std::size_t N>
EnumValue<E> one_of(const core::EnumName<E> (&names)[N]) {
    return EnumValue<E>{std::span<const core::EnumName<E>>(names)};
}

struct TextValue {
    bool required = false;  ///< empty is an error
    std::string read(Reader& r, const YAML::Node& n, const std::string& path) const {
        auto v = r.scalar(n, path);
        if (required && v.empty()) r.fail(n, path, "must not be empty");
        return v;
    }
    void print(YAML::Emitter& out, const std::string& v) const { out << YAML::DoubleQuoted << v; }
};

/// A file chgate must be able to read when the configuration is loaded.
struct FileValue {
    std::string read(Reader& r, const YAML::Node& n, const std::string& path) const {
        return r.readable_file(n, path);
    }
    void print(YAML::Emitter& out, const std::string& v) const { out << YAML::DoubleQuoted << v; }
};

struct CidrsValue {
    std::vector<std::string> read(Reader& r, const YAML::Node& n, const std::string& path) const {
        return r.cidrs(n, path);
    }
    void print(YAML::Emitter& out, const std::vector<std::string>& v) const {
        out << YAML::Flow << v;
    }
};

}  // namespace chgate::config::keys
