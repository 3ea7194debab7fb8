#include "ingest/ColumnType.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace chgate::ingest {
namespace {

// A recursive-descent reader of ClickHouse's type syntax. Nesting is bounded:
// a type from a hostile server cannot exhaust the stack.
constexpr int kMaxNesting = 32;

class TypeReader {
  public:
    explicit TypeReader(std::string_view s) : s_(s) {}

    bool done() {
        space();
        return i_ == s_.size();
    }

    ColumnType type(int depth) {
        ColumnType t;
        if (depth > kMaxNesting) return fail();
        space();
        const auto name = identifier();
        if (name.empty()) return fail();
        space();
        const bool has_args = i_ < s_.size() && s_[i_] == '(';
        using K = ColumnType::Kind;
        static constexpr std::pair<std::string_view, unsigned> kInts[] = {
            {"Int8", 8}, {"Int16", 16}, {"Int32", 32}, {"Int64", 64}};
        const bool is_unsigned = name.starts_with('U');
        for (const auto& [n, bits] : kInts) {
            if (name.substr(is_unsigned ? 1 : 0) == n) {
                return simple(is_unsigned ? K::unsigned_int : K::signed_int, bits, has_args);
            }
        }
        if (name == "Float32") return simple(K::float32, 0, has_args);
        if (name == "Float64") return simple(K::float64, 0, has_args);
        if (name == "String") return simple(K::string, 0, has_args);
        if (name == "Date") return simple(K::date, 0, has_args);
        if (name == "UUID") return simple(K::uuid, 0, has_args);
        if (name == "Bool") return simple(K::boolean, 0, has_args);
        if (name == "Nothing") return simple(K::nothing, 0, has_args);
        if (!has_args && name == "DateTime") return simple(K::date_time, 0, false);
        if (!has_args) return fail();
        ++i_;  // (
        if (name == "DateTime") {
            // DateTime('zone'): the zone changes how text is read, not what is
            // valid. It is kept in names[0].
            if (!quoted(t) || !close()) return fail();
            t.kind = K::date_time;
            return t;
        }
        if (name == "FixedString") {
            t.kind = K::fixed_string;
            if (!number(t.size) || t.size == 0 || !close()) return fail();
            return t;
        }
        if (name == "Decimal" || name == "Decimal32" || name == "Decimal64" ||
            name == "Decimal128") {
            t.kind = K::decimal;
            std::uint64_t p = name == "Decimal32" ? 9 : name == "Decimal64" ? 18 : 38;
            std::uint64_t s = 0;
            if (name == "Decimal") {
                if (!number(p) || !comma()) return fail();
            }
            if (!number(s) || !close() || p == 0 || p > 38 || s > p) return fail();
            t.precision = static_cast<unsigned>(p);
            t.scale = static_cast<unsigned>(s);
            return t;
        }
        if (name == "Enum8" || name == "Enum16") {
            t.kind = K::enumeration;
            t.bits = name == "Enum8" ? 8 : 16;
            for (;;) {
                if (!quoted(t)) return fail();
                space();
                if (i_ < s_.size() && s_[i_] == '=') {
                    ++i_;
                    space();
                    const bool negative = i_ < s_.size() && s_[i_] == '-';
                    if (negative) ++i_;
                    std::uint64_t magnitude = 0;
                    if (!number(magnitude) || magnitude > 32768) return fail();
                    const auto value = static_cast<std::int64_t>(magnitude);
                    t.values.push_back(negative ? -value : value);
                }
                space();
                if (i_ < s_.size() && s_[i_] == ',') {
                    ++i_;
                    continue;
                }
                if (!close()) return fail();
                return t;
            }
        }
        if (name == "Nullable" || name == "Array" || name == "LowCardinality") {
            auto inner = type(depth + 1);
            if (!close()) return fail();
            if (name == "LowCardinality") return inner;
            t.kind = name == "Nullable" ? K::nullable : K::array;
            t.args.push_back(std::move(inner));
            return t;
        }
        if (name == "Tuple" || name == "Map") {
            t.kind = name == "Tuple" ? K::tuple : K::map;
            for (;;) {
                space();
                // Named tuple elements ("a UInt8") on newer servers: skip the name.
                const auto save = i_;
                const auto first = identifier();
                space();
                if (!first.empty() && i_ < s_.size() && s_[i_] != ',' && s_[i_] != ')' &&
                    s_[i_] != '(') {
                    // "name Type"
                } else {
                    i_ = save;
                }
                t.args.push_back(type(depth + 1));
                space();
                if (i_ < s_.size() && s_[i_] == ',') {
                    ++i_;
                    continue;
                }
                if (!close()) return fail();
                break;
            }
            if (t.kind == K::map && t.args.size() != 2) return fail();
            return t;
        }
        return fail();
    }

  private:
    ColumnType simple(ColumnType::Kind kind, unsigned bits, bool has_args) {
        if (has_args) return fail();
        ColumnType t;
        t.kind = kind;
        t.bits = bits;
        return t;
    }
    ColumnType fail() {
        failed_ = true;
        i_ = s_.size();
        return {};
    }
    void space() {
        while (i_ < s_.size() && s_[i_] == ' ')
            ++i_;
    }
    std::string_view identifier() {
        const auto start = i_;
        while (i_ < s_.size() &&
               (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_'))
            ++i_;
        return s_.substr(start, i_ - start);
    }
    bool close() {
        space();
        if (i_ >= s_.size() || s_[i_] != ')') return false;
        ++i_;
        return true;
    }
    bool comma() {
        space();
        if (i_ >= s_.size() || s_[i_] != ',') return false;
        ++i_;
        space();
        return true;
    }
    bool number(std::uint64_t& out) {
        space();
        const auto [end, ec] = std::from_chars(s_.data() + i_, s_.data() + s_.size(), out);
        if (ec != std::errc{}) return false;
        i_ = static_cast<std::size_t>(end - s_.data());
        return true;
    }
    // A '...' string with \\ escapes, into t.names.
    bool quoted(ColumnType& t) {
        space();
        if (i_ >= s_.size() || s_[i_] != '\'') return false;
        std::string value;
        for (++i_; i_ < s_.size(); ++i_) {
            if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
                value += s_[++i_];
            } else if (s_[i_] == '\'') {
                ++i_;
                t.names.push_back(std::move(value));
                return true;
            } else {
                value += s_[i_];
            }
        }
        return false;
    }

    std::string_view s_;
    std::size_t i_ = 0;
    bool failed_ = false;

  public:
    bool failed() const { return failed_; }
};

}  // namespace

bool ColumnType::fully_known() const {
    if (kind == Kind::unknown) return false;
    return std::all_of(args.begin(), args.end(), [](const auto& a) { return a.fully_known(); });
}

ColumnType parse_column_type(std::string_view text) {
    TypeReader reader(text);
    auto t = reader.type(0);
    if (reader.failed() || !reader.done()) return {};
    return t;
}

std::string to_string(const ColumnType& t) {
    using K = ColumnType::Kind;
    auto list = [&](const char* name) {
        std::string out = std::string(name) + "(";
        for (std::size_t i = 0; i < t.args.size(); ++i)
            out += (i ? ", " : "") + to_string(t.args[i]);
        return out + ")";
    };
    switch (t.kind) {
        case K::signed_int:
            return "Int" + std::to_string(t.bits);
        case K::unsigned_int:
            return "UInt" + std::to_string(t.bits);
        case K::float32:
            return "Float32";
        case K::float64:
            return "Float64";
        case K::decimal:
            return "Decimal(" + std::to_string(t.precision) + ", " + std::to_string(t.scale) + ")";
        case K::string:
            return "String";
        case K::fixed_string:
            return "FixedString(" + std::to_string(t.size) + ")";
        case K::date:
            return "Date";
        case K::date_time:
            return "DateTime";
        case K::uuid:
            return "UUID";
        case K::enumeration: {
            std::string out = "Enum(";
            for (std::size_t i = 0; i < t.names.size() && i < 8; ++i)
                out += (i ? ", '" : "'") + t.names[i] + "'";
            return out + (t.names.size() > 8 ? ", ...)" : ")");
        }
        case K::boolean:
            return "Bool";
        case K::nullable:
            return list("Nullable");
        case K::array:
            return list("Array");
        case K::tuple:
            return list("Tuple");
        case K::map:
            return list("Map");
        case K::nothing:
            return "Nothing";
        case K::unknown:
            return "a type chgate does not check";
    }
    return "?";
}

}  // namespace chgate::ingest
