#include "ingest/RowBinary.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "ingest/JsonScanner.hpp"
#include "ingest/RowCheck.hpp"
#include "ingest/ShardKey.hpp"

namespace chgate::ingest {
namespace {

using K = ColumnType::Kind;
// Decimal128's scaled integer (a GCC and Clang extension).
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

template <class T>
void put(std::string& out, T v) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));  // little-endian on every machine chgate builds for
    out.append(bytes, sizeof(T));
}

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out += static_cast<char>(v | 0x80);
        v >>= 7;
    }
    out += static_cast<char>(v);
}

void skip_space(std::string_view s, std::size_t& i) {
    while (i < s.size() && is_json_space(s[i]))
        ++i;
}

std::string_view string_body(std::string_view v) {
    return v.substr(1, v.size() - 2);
}

bool decoded(std::string_view v, std::string& scratch, std::string_view& out) {
    return json_string_text(v, scratch, out);
}

// One past the JSON value at `i` of `s`, which the door validated: strings
// and nesting are followed, nothing else is checked (npos if `s` ends first).
// Much cheaper than scan_value, which validates every byte again.
std::size_t skip_value(std::string_view s, std::size_t i) {
    std::size_t depth = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == '"') {
            // The next quote not escaped: one after an even run of backslashes.
            for (++i;;) {
                const auto q = s.find('"', i);  // memchr
                if (q == std::string_view::npos) return std::string_view::npos;
                std::size_t backslashes = 0;
                while (q - backslashes > i && s[q - backslashes - 1] == '\\')
                    ++backslashes;
                i = q + 1;
                if (backslashes % 2 == 0) break;
            }
            if (depth == 0) return i;
            continue;
        }
        if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return i;  // the end of the enclosing value
            if (--depth == 0) return i + 1;
        } else if (depth == 0 && (c == ',' || is_json_space(c))) {
            return i;  // the end of a number or a literal
        }
        ++i;
    }
    return depth == 0 ? i : std::string_view::npos;
}

// Calls `each(element)` for the elements of a JSON array `v` (valid JSON).
template <class Each>
bool each_element(std::string_view v, Each&& each) {
    std::size_t i = 1;
    skip_space(v, i);
    if (i < v.size() && v[i] == ']') return true;
    for (;;) {
        const auto end = skip_value(v, i);
        if (end == std::string_view::npos || end == i) return false;
        if (!each(v.substr(i, end - i))) return false;
        i = end;
        skip_space(v, i);
        if (i >= v.size()) return false;
        if (v[i] == ']') return true;
        ++i;  // ,
        skip_space(v, i);
    }
}

std::size_t count_elements(std::string_view v) {
    std::size_t n = 0;
    each_element(v, [&](std::string_view) {
        ++n;
        return true;
    });
    return n;
}

// -?digits into a 64-bit two's complement pattern, within `bits` (the door
// checked the range; this checks it again, cheaply).
bool integer_bits(std::string_view text, bool is_signed, unsigned bits, std::uint64_t& out) {
    const bool negative = !text.empty() && text.front() == '-';
    const auto digits = negative ? text.substr(1) : text;
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) return false;
    if (negative && !is_signed) return false;
    std::uint64_t magnitude = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return false;
    const std::uint64_t max = bits == 64 ? UINT64_MAX : (std::uint64_t{1} << bits) - 1;
    const std::uint64_t limit = !is_signed ? max : negative ? (max >> 1) + 1 : max >> 1;
    if (magnitude > limit) return false;
    out = negative ? ~magnitude + 1 : magnitude;
    return true;
}

void put_bits(std::string& out, std::uint64_t v, unsigned bits) {
    switch (bits) {
        case 8:
            put(out, static_cast<std::uint8_t>(v));
            break;
        case 16:
            put(out, static_cast<std::uint16_t>(v));
            break;
        case 32:
            put(out, static_cast<std::uint32_t>(v));
            break;
        default:
            put(out, v);
    }
}

bool encode_integer(const ColumnType& t, std::string_view v, std::string& out) {
    const char c = v.front();
    std::uint64_t value = 0;
    if (c == 'n') {
        value = 0;
    } else if (c == 't' || c == 'f') {
        if (t.bits != 8) return false;
        value = c == 't' ? 1 : 0;
    } else {
        const auto text = c == '"' ? string_body(v) : v;
        if (!integer_bits(text, t.kind == K::signed_int, t.bits, value)) return false;
    }
    put_bits(out, value, t.bits);
    return true;
}

bool encode_float(const ColumnType& t, std::string_view v, std::string& out) {
    const char c = v.front();
    // null: NaN, as 18.16's JSONEachRow reads it into a float (measured).
    double value = std::numeric_limits<double>::quiet_NaN();
    if (c != 'n') {
        std::string_view text = c == '"' ? string_body(v) : v;
        if (text == "nan" || text == "-nan") {
            value = std::numeric_limits<double>::quiet_NaN();
        } else if (text == "inf" || text == "+inf") {
            value = std::numeric_limits<double>::infinity();
        } else if (text == "-inf") {
            value = -std::numeric_limits<double>::infinity();
        } else {
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return false;
        }
    }
    if (t.kind == K::float32) {
        put(out, static_cast<float>(value));
    } else {
        put(out, value);
    }
    return true;
}

bool encode_decimal(const ColumnType& t, std::string_view v, std::string& out) {
    // -?digits[.digits], no exponent: exactly the scaled integer.
    std::size_t i = v.front() == '-' ? 1 : 0;
    const bool negative = i == 1;
    Int128 value = 0;
    std::size_t int_digits = 0;
    for (; i < v.size() && is_digit(v[i]); ++i, ++int_digits)
        value = value * 10 + (v[i] - '0');
    if (int_digits == 0) return false;
    unsigned frac = 0;
    if (i < v.size() && v[i] == '.') {
        for (++i; i < v.size() && is_digit(v[i]); ++i) {
            if (frac == t.scale) {
                if (v[i] != '0') return false;  // more digits than the scale holds
                continue;
            }
            value = value * 10 + (v[i] - '0');
            ++frac;
        }
    }
    if (i != v.size()) return false;  // an exponent
    for (; frac < t.scale; ++frac)
        value *= 10;
    if (int_digits + t.scale > 38) return false;
    if (negative) value = -value;
    if (t.precision <= 9) {
        put(out, static_cast<std::int32_t>(value));
    } else if (t.precision <= 18) {
        put(out, static_cast<std::int64_t>(value));
    } else {
        put(out, static_cast<std::uint64_t>(static_cast<UInt128>(value)));
        put(out, static_cast<std::uint64_t>(static_cast<UInt128>(value) >> 64));
    }
    return true;
}

// Days from 1970-01-01 to a day of the proleptic Gregorian calendar.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool fixed_digits(std::string_view s, std::size_t at, std::size_t n, unsigned& out) {
    out = 0;
    if (at + n > s.size()) return false;
    for (std::size_t i = at; i < at + n; ++i) {
        if (!is_digit(s[i])) return false;
        out = out * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return true;
}

// "YYYY-MM-DD" exactly: days since the epoch, within Date's range.
bool date_days(std::string_view text, std::int64_t& days) {
    unsigned y = 0, m = 0, d = 0;
    if (text.size() < 10 || !fixed_digits(text, 0, 4, y) || text[4] != '-' ||
        !fixed_digits(text, 5, 2, m) || text[7] != '-' || !fixed_digits(text, 8, 2, d) ||
        !is_calendar_day(y, m, d)) {
        return false;
    }
    days = days_from_civil(y, m, d);
    return days >= 0 && days <= 65535;
}

bool encode_date(std::string_view v, std::string& scratch, std::string& out) {
    std::string_view text;
    std::int64_t days = 0;
    if (!decoded(v, scratch, text) || text.size() != 10 || !date_days(text, days)) return false;
    put(out, static_cast<std::uint16_t>(days));
    return true;
}

bool encode_date_time(const ColumnType& t, std::string_view v, const RowBinaryOptions& options,
                      std::string& scratch, std::string& out) {
    const char c = v.front();
    std::uint64_t unix_time = 0;
    if (c == 'n') {
        unix_time = 0;
    } else if (is_digit(c)) {
        if (!integer_bits(v, false, 32, unix_time)) return false;
    } else {
        std::string_view text;
        if (!decoded(v, scratch, text)) return false;
        if (!text.empty() && std::all_of(text.begin(), text.end(), is_digit)) {
            // A unix time as text, as the basic parser reads it (5 to 10 digits).
            if (options.date_time_best_effort || text.size() < 5 || text.size() > 10 ||
                !integer_bits(text, false, 32, unix_time))
                return false;
        } else {
            // "YYYY-MM-DD hh:mm:ss", only where it is read as UTC: the
            // column's zone, or else the server's.
            const bool utc = t.names.empty() ? options.server_utc
                                             : t.names[0] == "UTC" || t.names[0] == "Etc/UTC";
            std::int64_t days = 0;
            unsigned h = 0, mi = 0, s = 0;
            if (!utc || text.size() != 19 || !date_days(text, days) || text[10] != ' ' ||
                !fixed_digits(text, 11, 2, h) || text[13] != ':' ||
                !fixed_digits(text, 14, 2, mi) || text[16] != ':' ||
                !fixed_digits(text, 17, 2, s) || h > 23 || mi > 59 || s > 59) {
                return false;
            }
            const auto seconds = days * 86400 + h * 3600 + mi * 60 + s;
            if (seconds < 0 || seconds > static_cast<std::int64_t>(UINT32_MAX)) return false;
            unix_time = static_cast<std::uint64_t>(seconds);
        }
    }
    put(out, static_cast<std::uint32_t>(unix_time));
    return true;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// 8-4-4-4-12 hex digits: two UInt64, each of 16 digits read big-endian,
// written little-endian (as ClickHouse stores a UUID).
bool encode_uuid(std::string_view v, std::string& out) {
    if (v.size() != 38 || v.front() != '"') return false;
    const auto text = string_body(v);
    std::uint64_t halves[2] = {0, 0};
    std::size_t digit = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') return false;
            continue;
        }
        const int h = hex(text[i]);
        if (h < 0) return false;
        halves[digit / 16] = halves[digit / 16] << 4 | static_cast<std::uint64_t>(h);
        ++digit;
    }
    if (digit != 32) return false;
    put(out, halves[0]);
    put(out, halves[1]);
    return true;
}

bool encode_enum(const ColumnType& t, std::string_view v, std::string& scratch, std::string& out) {
    std::string_view name;
    if (t.values.size() != t.names.size() || !decoded(v, scratch, name)) return false;
    const auto it = std::find(t.names.begin(), t.names.end(), name);
    if (it == t.names.end()) return false;
    const auto value = t.values[static_cast<std::size_t>(it - t.names.begin())];
    if (t.bits == 8) {
        put(out, static_cast<std::int8_t>(value));
    } else {
        put(out, static_cast<std::int16_t>(value));
    }
    return true;
}

}  // namespace

const char* unencodable(const ColumnType& t) {
    switch (t.kind) {
        case K::signed_int:
        case K::unsigned_int:
        case K::float32:
        case K::float64:
        case K::decimal:
        case K::string:
        case K::fixed_string:
        case K::date:
        case K::date_time:
        case K::uuid:
            return nullptr;
        case K::enumeration:
            return t.values.size() == t.names.size() && (t.bits == 8 || t.bits == 16)
                       ? nullptr
                       : "an Enum whose values chgate did not read";
        case K::nullable:
        case K::array:
            return unencodable(t.args[0]);
        case K::tuple:
            for (const auto& a : t.args) {
                if (const auto why = unencodable(a)) return why;
            }
            return nullptr;
        case K::boolean:
            return "Bool (a newer server's type)";
        case K::map:
            return "Map (a newer server's type)";
        case K::nothing:
            return "Nothing";
        case K::unknown:
            return "a type chgate does not know";
    }
    return "a type chgate does not know";
}

bool encode_value(const ColumnType& t, std::string_view v, const RowBinaryOptions& options,
                  std::string& scratch, std::string& out) {
    if (v.empty()) return false;
    const char c = v.front();
    switch (t.kind) {
        case K::signed_int:
        case K::unsigned_int:
            return encode_integer(t, v, out);
        case K::float32:
        case K::float64:
            return encode_float(t, v, out);
        case K::decimal:
            return encode_decimal(t, v, out);
        case K::string: {
            std::string_view text;
            if (!decoded(v, scratch, text)) return false;
            put_varint(out, text.size());
            out.append(text);
            return true;
        }
        case K::fixed_string: {
            std::string_view text;
            if (!decoded(v, scratch, text) || text.size() > t.size) return false;
            out.append(text);
            out.append(t.size - text.size(), '\0');
            return true;
        }
        case K::date:
            return encode_date(v, scratch, out);
        case K::date_time:
            return encode_date_time(t, v, options, scratch, out);
        case K::uuid:
            return encode_uuid(v, out);
        case K::enumeration:
            return encode_enum(t, v, scratch, out);
        case K::nullable:
            if (c == 'n') {
                out += '\1';
                return true;
            }
            out += '\0';
            return encode_value(t.args[0], v, options, scratch, out);
        case K::array:
            if (c != '[') return false;
            put_varint(out, count_elements(v));
            return each_element(v, [&](std::string_view e) {
                return encode_value(t.args[0], e, options, scratch, out);
            });
        case K::tuple: {
            if (c != '[') return false;
            std::size_t n = 0;
            const bool ok = each_element(v, [&](std::string_view e) {
                return n < t.args.size() && encode_value(t.args[n++], e, options, scratch, out);
            });
            return ok && n == t.args.size();
        }
        default:
            return false;
    }
}

bool encode_default(const ColumnType& t, std::string& out) {
    switch (t.kind) {
        case K::signed_int:
        case K::unsigned_int:
            out.append(t.bits / 8, '\0');
            return true;
        case K::float32:
            out.append(4, '\0');
            return true;
        case K::float64:
            out.append(8, '\0');
            return true;
        case K::decimal:
            out.append(t.precision <= 9 ? 4 : t.precision <= 18 ? 8 : 16, '\0');
            return true;
        case K::string:
        case K::array:
            out += '\0';  // an empty string or array
            return true;
        case K::fixed_string:
            out.append(t.size, '\0');
            return true;
        case K::date:
            out.append(2, '\0');
            return true;
        case K::date_time:
            out.append(4, '\0');
            return true;
        case K::uuid:
            out.append(16, '\0');
            return true;
        case K::nullable:
            out += '\1';
            return true;
        case K::tuple:
            for (const auto& a : t.args) {
                if (!encode_default(a, out)) return false;
            }
            return true;
        case K::enumeration: {
            // The Enum's smallest value (measured on 18.16).
            if (t.values.empty()) return false;
            const auto least = *std::min_element(t.values.begin(), t.values.end());
            if (t.bits == 8) {
                put(out, static_cast<std::int8_t>(least));
            } else {
                put(out, static_cast<std::int16_t>(least));
            }
            return true;
        }
        default:
            return false;
    }
}

std::shared_ptr<const RowBinaryEncoder> RowBinaryEncoder::make(std::vector<EncodedColumn> columns,
                                                               RowBinaryOptions options,
                                                               std::string& why) {
    if (columns.empty()) {
        why = "the table has no columns to insert";
        return nullptr;
    }
    std::shared_ptr<RowBinaryEncoder> e(new RowBinaryEncoder());
    e->options_ = options;
    e->column_list_.assign(1, '(');  // (not = "(": gcc 12's -Wrestrict misfires on it)
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (const auto bad = unencodable(columns[i].type)) {
            why = "column " + columns[i].name + " is of type " + to_string(columns[i].type) + ": " +
                  bad;
            return nullptr;
        }
        e->by_name_.emplace(columns[i].name, i);
        if (i > 0) e->column_list_ += ", ";
        e->column_list_.append("`").append(columns[i].name).append("`");
    }
    e->column_list_ += ")";
    e->columns_ = std::move(columns);
    return e;
}

bool RowBinaryEncoder::encode(std::string_view ndjson, std::string& out, std::string& why) const {
    std::vector<std::string_view> values(columns_.size());
    // The column of the field at each position, as the last event had it.
    std::vector<std::size_t> guess(columns_.size() + 8, columns_.size());
    std::string scratch;
    out.reserve(out.size() + ndjson.size());  // RowBinary is rarely longer than the JSON
    std::size_t start = 0;
    while (start < ndjson.size()) {
        auto end = ndjson.find('\n', start);
        if (end == std::string_view::npos) end = ndjson.size();
        const auto row = ndjson.substr(start, end - start);
        start = end + 1;
        if (row.empty()) continue;
        if (!encode_row(row, values, guess, out, scratch, why)) return false;
    }
    return true;
}

bool RowBinaryEncoder::encode_row(std::string_view row, std::vector<std::string_view>& values,
                                  std::vector<std::size_t>& guess, std::string& out,
                                  std::string& scratch, std::string& why) const {
    std::fill(values.begin(), values.end(), std::string_view());
    std::size_t field = 0;  // the field's position in the event
    std::size_t i = 0;
    skip_space(row, i);
    if (i >= row.size() || row[i] != '{') {
        why = "a row is not a JSON object";
        return false;
    }
    ++i;
    skip_space(row, i);
    std::string key_scratch;
    if (i < row.size() && row[i] != '}') {
        for (;;) {
            const auto key_end = skip_value(row, i);
            std::string_view key;
            if (key_end == std::string_view::npos ||
                !decoded(row.substr(i, key_end - i), key_scratch, key)) {
                why = "a field's name is not a string";
                return false;
            }
            i = key_end;
            skip_space(row, i);
            ++i;  // :
            skip_space(row, i);
            const auto value_end = skip_value(row, i);
            if (value_end == std::string_view::npos || value_end == i) {
                why = "a value is not JSON";
                return false;
            }
            const auto value = row.substr(i, value_end - i);
            // Events of one client name their fields in one order: the
            // column of this field in the last event is tried first.
            std::size_t column = columns_.size();
            if (field < guess.size() && guess[field] < columns_.size() &&
                columns_[guess[field]].name == key) {
                column = guess[field];
            } else if (const auto it = by_name_.find(key); it != by_name_.end()) {
                column = it->second;
                if (field < guess.size()) guess[field] = column;
            }
            ++field;
            if (column < columns_.size()) {
                if (!values[column].empty()) {
                    why = "field " + std::string(key) + " appears twice";
                    return false;
                }
                values[column] = value;
            } else if (!options_.skip_unknown_fields) {
                why = "field " + std::string(key) + " is no column";
                return false;
            }
            i = value_end;
            skip_space(row, i);
            if (i >= row.size()) {
                why = "a row ends early";
                return false;
            }
            if (row[i] == '}') break;
            ++i;  // ,
            skip_space(row, i);
        }
    }
    for (std::size_t c = 0; c < columns_.size(); ++c) {
        const auto& column = columns_[c];
        if (values[c].empty()) {
            if (column.has_default_expression || !encode_default(column.type, out)) {
                why = "an event without field " + column.name +
                      ", whose default chgate does not "
                      "encode";
                return false;
            }
        } else if (!encode_value(column.type, values[c], options_, scratch, out)) {
            why = "field " + column.name + " holds a value chgate does not encode as " +
                  to_string(column.type);
            return false;
        }
    }
    return true;
}

}  // namespace chgate::ingest
