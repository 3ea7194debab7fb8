#include "ingest/ShardKey.hpp"

#include <charconv>

#include "core/CityHash.hpp"
#include "ingest/JsonScanner.hpp"

namespace chgate::ingest {
namespace {

void skip_space(std::string_view s, std::size_t& i) {
    while (i < s.size() && is_json_space(s[i]))
        ++i;
}

// The end of the string whose opening quote is at `i`: one past its closing quote.
std::size_t string_end(std::string_view s, std::size_t i) {
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
        } else if (s[i] == '"') {
            return i + 1;
        }
    }
    return s.size();
}

// The 4 hex digits of a \u escape; kNoCodeUnit when there are fewer.
constexpr std::uint32_t kNoCodeUnit = 0x110000;
std::uint32_t hex4(std::string_view s) {
    std::uint32_t v = 0;
    if (s.size() < 4) return kNoCodeUnit;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + 4, v, 16);
    return ec == std::errc{} && end == s.data() + 4 ? v : kNoCodeUnit;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// A JSON integer: -?digits, no fraction or exponent.
ShardKey integer_key(std::string_view number) {
    if (number.find_first_of(".eE") != std::string_view::npos) return {0, KeyFault::wrong_type};
    if (number.front() == '-') {
        // -0 is 0; any other negative value depends on the column's width.
        if (number.find_first_not_of('0', 1) == std::string_view::npos) return {0, KeyFault::none};
        return {0, KeyFault::negative};
    }
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
    if (ec == std::errc::result_out_of_range) return {0, KeyFault::too_large};
    if (ec != std::errc{} || end != number.data() + number.size()) return {0, KeyFault::wrong_type};
    return {v, KeyFault::none};
}

// The key from the field's value (JSON text, valid).
ShardKey value_key(std::string_view value, const core::ShardBy& by, std::string& scratch) {
    const char first = value.front();
    if (first == 'n') return {0, KeyFault::missing};  // null
    const bool is_number = first == '-' || (first >= '0' && first <= '9');
    if (by.kind == core::ShardBy::Kind::integer) {
        return is_number ? integer_key(value) : ShardKey{0, KeyFault::wrong_type};
    }
    if (is_number) {
        auto key = integer_key(value);
        if (key.ok()) key.value = core::city_hash64_of_integer(key.value);
        return key;
    }
    if (first != '"') return {0, KeyFault::wrong_type};
    if (!decode_json_string(value.substr(1, value.size() - 2), scratch)) {
        return {0, KeyFault::lone_surrogate};
    }
    return {core::city_hash64(scratch), KeyFault::none};
}

}  // namespace

const char* describe(KeyFault fault) {
    switch (fault) {
        case KeyFault::none:
            return "no error";
        case KeyFault::missing:
            return "is missing or null";
        case KeyFault::duplicate:
            return "appears twice";
        case KeyFault::wrong_type:
            return "is not of a type chgate shards exactly (a string or a non-negative integer "
                   "for cityHash64, a non-negative integer for a plain field)";
        case KeyFault::negative:
            return "is negative: ClickHouse shards a negative key by its column's width, which "
                   "chgate does not know";
        case KeyFault::too_large:
            return "is larger than 2^64-1";
        case KeyFault::lone_surrogate:
            return "holds a \\u escape of half a UTF-16 surrogate pair";
    }
    return "is not usable";
}

bool decode_json_string(std::string_view body, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < body.size();) {
        const auto slash = body.find('\\', i);
        out.append(body.substr(i, slash - i));
        if (slash == std::string_view::npos) break;
        if (slash + 1 == body.size()) return false;  // not valid JSON: a lone backslash
        const char e = body[slash + 1];
        i = slash + 2;
        switch (e) {
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                std::uint32_t cp = hex4(body.substr(i));
                i += 4;
                if (cp == kNoCodeUnit || (cp >= 0xDC00 && cp <= 0xDFFF)) return false;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    // The low half must follow as the next escape.
                    if (body.substr(i, 2) != "\\u") return false;
                    const auto low = hex4(body.substr(i + 2));
                    if (low < 0xDC00 || low > 0xDFFF) return false;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    i += 6;
                }
                append_utf8(out, cp);
                break;
            }
            default:  // " \ /
                out += e;
        }
    }
    return true;
}

ShardKey shard_key(std::string_view row, const core::ShardBy& by, std::string& scratch) {
    if (by.kind == core::ShardBy::Kind::random) return {};
    std::size_t i = 0;
    skip_space(row, i);
    ++i;  // {
    std::string_view found;
    for (;;) {
        skip_space(row, i);
        if (i >= row.size() || row[i] == '}') break;
        if (row[i] == ',') {
            ++i;
            continue;
        }
        const auto key_end = string_end(row, i);
        const auto raw_key = row.substr(i + 1, key_end - i - 2);
        i = key_end;
        skip_space(row, i);
        ++i;  // :
        skip_space(row, i);
        const auto scan = scan_value(row, i);
        if (!scan.ok()) break;  // not reached for a row scan_value accepted
        const auto value = row.substr(i, scan.end - i);
        i = scan.end;
        const bool match = raw_key.find('\\') == std::string_view::npos
                               ? raw_key == by.field
                               : decode_json_string(raw_key, scratch) && scratch == by.field;
        if (!match) continue;
        if (!found.empty()) return {0, KeyFault::duplicate};
        found = value;
    }
    if (found.empty()) return {0, KeyFault::missing};
    return value_key(found, by, scratch);
}

bool json_string_text(std::string_view value, std::string& scratch, std::string_view& out) {
    if (value.size() < 2 || value.front() != '"') return false;
    const auto body = value.substr(1, value.size() - 2);
    if (body.find('\\') == std::string_view::npos) {
        out = body;
        return true;
    }
    if (!decode_json_string(body, scratch)) return false;
    out = scratch;
    return true;
}

}  // namespace chgate::ingest
