#include "ingest/RowCheck.hpp"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "ingest/JsonScanner.hpp"
#include "ingest/ShardKey.hpp"

namespace chgate::ingest {
namespace {

using K = ColumnType::Kind;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

void skip_space(std::string_view s, std::size_t& i) {
    while (i < s.size() && is_json_space(s[i]))
        ++i;
}

// The body of a JSON string value (between its quotes), still escaped.
std::string_view string_body(std::string_view value) {
    return value.substr(1, value.size() - 2);
}

// An integer's text (-?digits) within the range of `bits` bits, signed or not.
const char* integer_in_range(std::string_view text, bool is_signed, unsigned bits) {
    const bool negative = !text.empty() && text.front() == '-';
    const auto digits = negative ? text.substr(1) : text;
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) {
        return "is not an integer";
    }
    if (negative && !is_signed) return "is negative, and the column is unsigned";
    std::uint64_t magnitude = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
    if (ec != std::errc{} || end != digits.data() + digits.size()) {
        return "is out of the column's range (the server would store another number)";
    }
    const std::uint64_t max = bits == 64 ? UINT64_MAX : (std::uint64_t{1} << bits) - 1;
    const std::uint64_t limit = !is_signed ? max : negative ? (max >> 1) + 1 : max >> 1;
    if (magnitude > limit) {
        return "is out of the column's range (the server would store another number)";
    }
    return nullptr;
}

const char* check_integer(const ColumnType& t, std::string_view v) {
    const char c = v.front();
    if (c == 'n') return nullptr;  // null: 0
    // 18.16 reads true and false into 8-bit integers only.
    if (c == 't' || c == 'f')
        return t.bits == 8 ? nullptr : "is a boolean, and the column holds wider integers";
    if (c == '"') return integer_in_range(string_body(v), t.kind == K::signed_int, t.bits);
    if (c == '-' || is_digit(c)) {
        if (v.find_first_of(".eE") != std::string_view::npos) {
            return "has a fraction or an exponent, and the column holds integers";
        }
        return integer_in_range(v, t.kind == K::signed_int, t.bits);
    }
    return "is not a number";
}

const char* check_float(const ColumnType& t, std::string_view v) {
    const char c = v.front();
    if (c == 'n') return nullptr;  // null: nan
    std::string_view text = v;
    if (c == '"') {
        text = string_body(v);
        // nan, inf, -inf as text; otherwise a number.
        if (text == "nan" || text == "inf" || text == "-inf" || text == "+inf" || text == "-nan") {
            return nullptr;
        }
    } else if (c != '-' && !is_digit(c)) {
        return "is not a number";
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) return "is out of the column's range";
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
        return "is not a number";
    }
    if (t.kind == K::float32 && std::isfinite(value) && std::fabs(value) > FLT_MAX) {
        return "is out of Float32's range (the server would store inf)";
    }
    return nullptr;
}

const char* check_decimal(const ColumnType& t, std::string_view v) {
    const char c = v.front();
    if (c != '-' && !is_digit(c)) return "is not a number (Decimal takes a JSON number)";
    std::size_t i = c == '-' ? 1 : 0;
    std::string_view int_part, frac_part;
    auto start = i;
    while (i < v.size() && is_digit(v[i]))
        ++i;
    int_part = v.substr(start, i - start);
    if (i < v.size() && v[i] == '.') {
        start = ++i;
        while (i < v.size() && is_digit(v[i]))
            ++i;
        frac_part = v.substr(start, i - start);
    }
    long exponent = 0;
    if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
        ++i;
        if (i < v.size() && v[i] == '+') ++i;
        const auto [end, ec] = std::from_chars(v.data() + i, v.data() + v.size(), exponent);
        if (ec != std::errc{} || exponent > 1000 || exponent < -1000) {
            return "has an exponent out of the column's range";
        }
        i = static_cast<std::size_t>(end - v.data());
    }
    // Digits before and after the point once the exponent has moved it,
    // without leading zeros of the integer part or trailing ones of the fraction.
    int_part.remove_prefix(std::min(int_part.find_first_not_of('0'), int_part.size()));
    while (!frac_part.empty() && frac_part.back() == '0')
        frac_part.remove_suffix(1);
    long int_digits = static_cast<long>(int_part.size()) + exponent;
    long frac_digits = static_cast<long>(frac_part.size()) - exponent;
    if (int_part.empty()) {
        // 0.00123: the fraction's leading zeros are no integer digits.
        const auto lead =
            static_cast<long>(std::min(frac_part.find_first_not_of('0'), frac_part.size()));
        int_digits = exponent - lead;
    }
    if (frac_part.empty() && int_part.empty()) return nullptr;  // zero
    if (frac_digits > static_cast<long>(t.scale)) {
        return "has more fraction digits than the column's scale (the server refuses it)";
    }
    if (int_digits > static_cast<long>(t.precision - t.scale)) {
        return "has more digits than the column's precision";
    }
    return nullptr;
}

// Bytes of a JSON string's body once decoded, or -1 for a lone surrogate.
long decoded_size(std::string_view body, std::string& scratch) {
    if (body.find('\\') == std::string_view::npos) return static_cast<long>(body.size());
    if (!decode_json_string(body, scratch)) return -1;
    return static_cast<long>(scratch.size());
}

// The decoded text of a JSON string value.
bool decoded(std::string_view v, std::string& scratch, std::string_view& out) {
    return json_string_text(v, scratch, out);
}

// Reads `n` digits (exactly, or 1 to n when `up_to`) at `i`.
bool digits(std::string_view s, std::size_t& i, std::size_t n, bool up_to, unsigned& out) {
    out = 0;
    std::size_t got = 0;
    while (got < n && i < s.size() && is_digit(s[i])) {
        out = out * 10 + static_cast<unsigned>(s[i++] - '0');
        ++got;
    }
    return up_to ? got > 0 : got == n;
}

// YYYY?M?D (one separator each, month and day of one or two digits), as the
// server reads a Date; the date must be on the calendar, 1970 to 2105.
const char* date_text(std::string_view s, std::size_t& i) {
    unsigned year = 0, month = 0, day = 0;
    if (!digits(s, i, 4, false, year) || i >= s.size() || is_digit(s[i])) return "is not a date";
    ++i;
    if (!digits(s, i, 2, true, month) || i >= s.size() || is_digit(s[i])) return "is not a date";
    ++i;
    if (!digits(s, i, 2, true, day)) return "is not a date";
    if (!is_calendar_day(year, month, day)) return "is not a day of the calendar";
    if (year < 1970 || year > 2105) return "is outside 1970 to 2105, where the column's dates lie";
    return nullptr;
}

const char* check_date(std::string_view v, std::string& scratch) {
    if (v.front() != '"') return "is not a date string (YYYY-MM-DD)";
    std::string_view text;
    if (!decoded(v, scratch, text)) return "is not a date string (YYYY-MM-DD)";
    std::size_t i = 0;
    if (const auto bad = date_text(text, i)) return bad;
    return i == text.size() ? nullptr : "is not a date string (YYYY-MM-DD)";
}

const char* unix_time(std::string_view digits_text) {
    std::uint64_t t = 0;
    const auto [end, ec] =
        std::from_chars(digits_text.data(), digits_text.data() + digits_text.size(), t);
    if (ec != std::errc{} || end != digits_text.data() + digits_text.size() || t > UINT32_MAX) {
        return "is out of DateTime's range";
    }
    return nullptr;
}

const char* check_date_time(std::string_view v, const CheckOptions& options, std::string& scratch) {
    const char c = v.front();
    if (is_digit(c)) {
        if (v.find_first_of(".eE") != std::string_view::npos) {
            return "has a fraction or an exponent; a unix time is whole seconds";
        }
        return unix_time(v);
    }
    if (c == '-') return "is negative; a unix time is at least 0";
    if (c != '"') return "is not a date and time (\"YYYY-MM-DD hh:mm:ss\" or a unix time)";
    std::string_view text;
    if (!decoded(v, scratch, text)) return "is not a date and time";
    if (!text.empty() && std::all_of(text.begin(), text.end(), is_digit)) {
        // Under best_effort, 18.16 reads such text wrongly in a batch of rows
        // (measured: "1796317467" after another row is stored as a time in
        // 2033); schema: coerce sends it as the number.
        if (options.date_time_best_effort) {
            return "is a unix time as text, which date_time_input_format=best_effort misreads; "
                   "send it as a number";
        }
        // As text, a unix time of 5 to 10 digits (shorter reads as a year).
        if (text.size() < 5 || text.size() > 10) return "is not a date and time";
        return unix_time(text);
    }
    if (options.date_time_best_effort) {
        // date_time_input_format=best_effort reads many forms (ISO 8601 with a
        // zone, RFC 1123...); chgate refuses text with no digit at all, and
        // digits.digits, which 18.16 refuses ("2026.12.03" it reads).
        const auto point = text.find('.');
        if (point != std::string_view::npos && point > 0 && point + 1 < text.size() &&
            std::all_of(text.begin(), text.begin() + static_cast<long>(point), is_digit) &&
            text.find_first_not_of("0123456789", point + 1) == std::string_view::npos) {
            return "is a number with a fraction; a unix time is whole seconds";
        }
        return std::any_of(text.begin(), text.end(), is_digit) ? nullptr : "is not a date and time";
    }
    std::size_t i = 0;
    if (const auto bad = date_text(text, i)) return bad;
    unsigned h = 0, m = 0, s = 0;
    if (i >= text.size() || (text[i] != ' ' && text[i] != 'T')) {
        return "is not \"YYYY-MM-DD hh:mm:ss\" (set date_time_input_format: best_effort in "
               "clickhouse.settings for other forms)";
    }
    ++i;
    const bool ok = digits(text, i, 2, false, h) && i < text.size() && text[i++] == ':' &&
                    digits(text, i, 2, false, m) && i < text.size() && text[i++] == ':' &&
                    digits(text, i, 2, false, s) && i == text.size();
    if (!ok) {
        return "is not \"YYYY-MM-DD hh:mm:ss\" (set date_time_input_format: best_effort in "
               "clickhouse.settings for other forms)";
    }
    if (h > 23 || m > 59 || s > 59) return "is not a time of day";
    return nullptr;
}

const char* check_uuid(std::string_view v) {
    if (v.front() != '"') return "is not a UUID string";
    const auto text = string_body(v);
    if (text.size() != 36) return "is not a UUID (8-4-4-4-12 hex digits)";
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) {
            return "is not a UUID (8-4-4-4-12 hex digits)";
        }
    }
    return nullptr;
}

// Calls `each` with every element of the JSON array or object value `v`
// (for an object, with the key's text too); stops at the first reason.
template <class Each>
const char* each_element(std::string_view v, Each each) {
    std::size_t i = 1;
    skip_space(v, i);
    const char close = v.front() == '[' ? ']' : '}';
    if (i < v.size() && v[i] == close) return nullptr;
    for (;;) {
        std::string_view key;
        if (close == '}') {
            const auto scan = scan_value(v, i);
            key = v.substr(i, scan.end - i);
            i = scan.end;
            skip_space(v, i);
            ++i;  // :
            skip_space(v, i);
        }
        const auto scan = scan_value(v, i);
        if (!scan.ok()) return "is not valid JSON";
        if (const auto bad = each(key, v.substr(i, scan.end - i))) return bad;
        i = scan.end;
        skip_space(v, i);
        if (i >= v.size() || v[i] != ',') return nullptr;
        ++i;
        skip_space(v, i);
    }
}

// --- schema: coerce -------------------------------------------------------

// -?digits.0+ (or -?digits): the integer's text, without its zero fraction.
// "-0" and "-0.0" are "0".
bool integral_text(std::string_view text, std::string& out) {
    const bool negative = !text.empty() && text.front() == '-';
    auto digits_text = negative ? text.substr(1) : text;
    const auto point = digits_text.find('.');
    auto int_part = digits_text.substr(0, point);
    if (int_part.empty() || !std::all_of(int_part.begin(), int_part.end(), is_digit)) return false;
    if (point != std::string_view::npos) {
        const auto frac = digits_text.substr(point + 1);
        if (frac.empty() || frac.find_first_not_of('0') != std::string_view::npos) return false;
    }
    int_part.remove_prefix(std::min(int_part.find_first_not_of('0'), int_part.size() - 1));
    if (negative && int_part != "0") out += '-';
    out += int_part;
    return true;
}

bool coerce_integer(const ColumnType& t, std::string_view v, std::string& out) {
    auto text = v;
    if (v.front() == '"') text = string_body(v);
    if (text == "true" || text == "false") {
        out += text == "true" ? '1' : '0';
        return true;
    }
    if (text.empty() || text.find('.') == std::string_view::npos) return false;
    const auto at = out.size();
    if (!integral_text(text, out)) return false;
    const auto written = std::string_view(out).substr(at);
    if (integer_in_range(written, t.kind == K::signed_int, t.bits) != nullptr) {
        out.resize(at);
        return false;
    }
    return true;
}

bool coerce_decimal(const ColumnType& t, std::string_view v, std::string& out) {
    if (v.front() != '"') return false;
    const auto text = string_body(v);
    // Only a JSON number, whole: not "1.", ".5", "+1", " 1" or "0x1".
    if (text.empty() || (text.front() != '-' && !is_digit(text.front()))) return false;
    const auto scan = scan_value(text, 0);
    if (!scan.ok() || scan.end != text.size()) return false;
    if (check_decimal(t, text) != nullptr) return false;
    out += text;
    return true;
}

// Days from 1970-01-01 to a day of the (proleptic Gregorian) calendar.
std::int64_t days_since_epoch(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned mp = m > 2 ? m - 3 : m + 9;  // months since March
    const unsigned doy = (153 * mp + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// A unix time in seconds as text, if DateTime holds it.
bool put_unix_time(std::int64_t t, std::string& out) {
    if (t < 0 || t > static_cast<std::int64_t>(UINT32_MAX)) return false;
    out += std::to_string(t);
    return true;
}

// digits[.digits] as a unix time: a fraction is dropped, and 12 or 13 digits
// are milliseconds.
bool coerce_unix_time(std::string_view text, std::string& out) {
    const auto point = text.find('.');
    const auto whole = text.substr(0, point);
    if (whole.empty() || whole.size() > 13 || !std::all_of(whole.begin(), whole.end(), is_digit)) {
        return false;
    }
    if (point != std::string_view::npos) {
        const auto frac = text.substr(point + 1);
        if (frac.empty() || !std::all_of(frac.begin(), frac.end(), is_digit)) return false;
    }
    std::uint64_t t = 0;
    std::from_chars(whole.data(), whole.data() + whole.size(), t);
    if (whole.size() >= 12) t /= 1000;
    return put_unix_time(static_cast<std::int64_t>(t), out);
}

// YYYY-MM-DD[T ]hh:mm:ss[.fraction][zone]. With a zone (Z, +hh:mm, +hhmm,
// +hh): its unix time. Without one: the text up to the seconds.
bool coerce_iso_date_time(std::string_view text, std::string& out) {
    std::size_t i = 0;
    unsigned year = 0, month = 0, day = 0, h = 0, m = 0, s = 0;
    const bool date_ok = digits(text, i, 4, false, year) && i < text.size() && text[i++] == '-' &&
                         digits(text, i, 2, false, month) && i < text.size() && text[i++] == '-' &&
                         digits(text, i, 2, false, day) && i < text.size() &&
                         (text[i] == 'T' || text[i] == ' ');
    if (!date_ok || !is_calendar_day(year, month, day)) return false;
    ++i;
    if (!(digits(text, i, 2, false, h) && i < text.size() && text[i++] == ':' &&
          digits(text, i, 2, false, m) && i < text.size() && text[i++] == ':' &&
          digits(text, i, 2, false, s))) {
        return false;
    }
    if (h > 23 || m > 59 || s > 59) return false;
    const auto seconds_end = i;
    if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
        const auto start = ++i;
        while (i < text.size() && is_digit(text[i]))
            ++i;
        if (i == start) return false;
    }
    if (i == text.size()) {
        // No zone: the server reads it in its own time zone, so it stays text
        // (within the years its DateTime holds).
        if (year < 1970 || year > 2105) return false;
        out += '"';
        out += text.substr(0, seconds_end);
        out += '"';
        return true;
    }
    std::int64_t offset = 0;  // seconds east of UTC
    if (text[i] == 'Z' || text[i] == 'z') {
        ++i;
    } else if (text[i] == '+' || text[i] == '-') {
        const int sign = text[i++] == '-' ? -1 : 1;
        unsigned zh = 0, zm = 0;
        if (!digits(text, i, 2, false, zh)) return false;
        if (i < text.size() && text[i] == ':') ++i;
        if (i < text.size() && !digits(text, i, 2, false, zm)) return false;
        if (zh > 23 || zm > 59) return false;
        offset = sign * static_cast<std::int64_t>(zh * 3600 + zm * 60);
    } else {
        return false;
    }
    if (i != text.size()) return false;
    const auto t = days_since_epoch(year, month, day) * 86400 + h * 3600 + m * 60 + s - offset;
    return put_unix_time(t, out);
}

bool coerce_date_time(std::string_view v, std::string& out) {
    const char c = v.front();
    if (is_digit(c)) return coerce_unix_time(v, out);
    if (c != '"') return false;
    const auto text = string_body(v);  // the forms below have no escapes
    if (text.empty()) return false;
    if (is_digit(text.front()) && text.find_first_not_of("0123456789.") == std::string_view::npos) {
        return coerce_unix_time(text, out);
    }
    return coerce_iso_date_time(text, out);
}

// Rewrites the elements of the JSON array or object `v` that `type_of` (by
// position) refuses; false if one cannot be.
template <class TypeOf>
bool coerce_elements(std::string_view v, const CheckOptions& options, std::string& scratch,
                     std::string& out, TypeOf type_of) {
    const auto at = out.size();
    const bool object = v.front() == '{';
    out += v.front();
    std::size_t n = 0;
    bool first = true;
    const auto bad = each_element(v, [&](std::string_view key, std::string_view e) -> const char* {
        const ColumnType* t = type_of(n++);
        if (t == nullptr) return "";
        if (!first) out += ',';
        first = false;
        if (object) {
            out += key;
            out += ':';
        }
        if (check_value(*t, e, options, scratch) == nullptr) {
            out += e;
            return nullptr;
        }
        return coerce_value(*t, e, options, scratch, out) ? nullptr : "";
    });
    if (bad != nullptr) {
        out.resize(at);
        return false;
    }
    out += object ? '}' : ']';
    return true;
}

}  // namespace

bool is_calendar_day(unsigned year, unsigned month, unsigned day) {
    static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1) return false;
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

const char* check_value(const ColumnType& t, std::string_view v, const CheckOptions& options,
                        std::string& scratch) {
    const char c = v.front();
    switch (t.kind) {
        case K::signed_int:
        case K::unsigned_int:
            return check_integer(t, v);
        case K::float32:
        case K::float64:
            return check_float(t, v);
        case K::decimal:
            return check_decimal(t, v);
        case K::string:
            return c == '"' ? nullptr : "is not a string";
        case K::fixed_string: {
            if (c != '"') return "is not a string";
            const auto n = decoded_size(string_body(v), scratch);
            if (n < 0) return "holds half a UTF-16 surrogate pair";
            return static_cast<std::uint64_t>(n) <= t.size
                       ? nullptr
                       : "is longer than the column's FixedString size, in bytes";
        }
        case K::date:
            return check_date(v, scratch);
        case K::date_time:
            return check_date_time(v, options, scratch);
        case K::uuid:
            return check_uuid(v);
        case K::enumeration: {
            if (c != '"') return "is not a string (an Enum takes one of its names)";
            std::string_view name;
            if (!decoded(v, scratch, name)) return "is not one of the Enum's names";
            return std::find(t.names.begin(), t.names.end(), name) != t.names.end()
                       ? nullptr
                       : "is not one of the Enum's names";
        }
        case K::boolean:
            return v == "true" || v == "false" || v == "0" || v == "1" ? nullptr
                                                                       : "is not true or false";
        case K::nullable:
            return c == 'n' ? nullptr : check_value(t.args[0], v, options, scratch);
        case K::array:
            if (c != '[') return "is not an array";
            return each_element(v, [&](std::string_view, std::string_view e) {
                return check_value(t.args[0], e, options, scratch);
            });
        case K::tuple: {
            if (c != '[') return "is not an array (a Tuple takes one of its elements' count)";
            std::size_t n = 0;
            const auto bad = each_element(v, [&](std::string_view, std::string_view e) {
                return n < t.args.size() ? check_value(t.args[n++], e, options, scratch)
                                         : "has more elements than the Tuple";
            });
            if (bad) return bad;
            return n == t.args.size() ? nullptr : "has fewer elements than the Tuple";
        }
        case K::map:
            if (c != '{') return "is not an object";
            return each_element(v, [&](std::string_view, std::string_view e) {
                return check_value(t.args[1], e, options, scratch);
            });
        case K::nothing:
            return c == 'n' ? nullptr : "is not null (the column's type is Nothing)";
        case K::unknown:
            return nullptr;
    }
    return nullptr;
}

bool coerce_value(const ColumnType& t, std::string_view v, const CheckOptions& options,
                  std::string& scratch, std::string& out) {
    switch (t.kind) {
        case K::signed_int:
        case K::unsigned_int:
            return coerce_integer(t, v, out);
        case K::decimal:
            return coerce_decimal(t, v, out);
        case K::date_time:
            // Under best_effort, text with a digit passes check_value: the
            // server reads it, so only numbers are rewritten.
            return coerce_date_time(v, out);
        case K::boolean:
            if (v != "\"true\"" && v != "\"false\"") return false;
            out += string_body(v);
            return true;
        case K::nullable:
            return coerce_value(t.args[0], v, options, scratch, out);
        case K::array:
            if (v.front() != '[') return false;
            return coerce_elements(v, options, scratch, out,
                                   [&](std::size_t) { return &t.args[0]; });
        case K::tuple: {
            if (v.front() != '[') return false;
            const auto at = out.size();
            const bool ok = coerce_elements(v, options, scratch, out, [&](std::size_t n) {
                return n < t.args.size() ? &t.args[n] : nullptr;
            });
            if (!ok) return false;
            // Too few elements: the rewritten tuple still does not fit.
            if (check_value(t, std::string_view(out).substr(at), options, scratch) != nullptr) {
                out.resize(at);
                return false;
            }
            return true;
        }
        case K::map:
            if (v.front() != '{') return false;
            return coerce_elements(v, options, scratch, out,
                                   [&](std::size_t) { return &t.args[1]; });
        default:
            return false;
    }
}

RowChecker::RowChecker(std::vector<CheckedColumn> columns, CheckOptions options)
    : columns_(std::move(columns)), options_(options) {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        by_name_.emplace(columns_[i].name, i);
        if (!columns_[i].type.fully_known()) ++unchecked_;
    }
}

std::optional<RowFault> RowChecker::check(std::string_view row, std::string& scratch) const {
    return walk(row, scratch, nullptr);
}

std::optional<RowFault> RowChecker::coerce(std::string_view row, std::string& scratch,
                                           std::string& out, bool& coerced) const {
    out.clear();
    auto fault = walk(row, scratch, &out);
    coerced = !fault && !out.empty();
    if (!coerced) out.clear();
    return fault;
}

// Checks `row`; with `out`, rewrites what coerce_value can into it (and
// leaves it empty when nothing needed to be).
std::optional<RowFault> RowChecker::walk(std::string_view row, std::string& scratch,
                                         std::string* out) const {
    std::size_t copied = 0;  // of `row`, into *out
    // Which columns this row named, for duplicates: a bitset on the stack for
    // most tables, the heap past 1024 columns.
    constexpr std::size_t kOnStack = 1024;
    std::uint64_t stack_seen[kOnStack / 64] = {};
    std::vector<std::uint64_t> heap_seen;
    std::uint64_t* seen = stack_seen;
    if (columns_.size() > kOnStack) {
        heap_seen.assign((columns_.size() + 63) / 64, 0);
        seen = heap_seen.data();
    }
    std::string key_scratch;
    std::size_t i = 1;
    skip_space(row, i);
    if (i < row.size() && row[i] == '}') return std::nullopt;
    for (;;) {
        const auto key_at = i;
        const auto key_scan = scan_value(row, i);
        std::string_view key;
        if (!decoded(row.substr(i, key_scan.end - i), key_scratch, key)) {
            return RowFault{key_at, "", "", "a field's name holds half a UTF-16 surrogate pair"};
        }
        i = key_scan.end;
        skip_space(row, i);
        ++i;  // :
        skip_space(row, i);
        const auto value_scan = scan_value(row, i);
        const auto value = row.substr(i, value_scan.end - i);
        const auto it = by_name_.find(key);
        if (it == by_name_.end()) {
            if (!options_.ignore_unknown_fields) {
                return RowFault{key_at,
                                std::string(key),
                                "",
                                "is not a column of the table (set unknown_fields: ignore to "
                                "skip such fields)",
                                true,
                                i,
                                value.size()};
            }
        } else {
            const auto& column = columns_[it->second];
            auto& word = seen[it->second / 64];
            const auto bit = std::uint64_t{1} << (it->second % 64);
            if (word & bit) return RowFault{key_at, column.name, "", "appears twice in the event"};
            word |= bit;
            if (!column.insertable) {
                return RowFault{key_at, column.name, "",
                                "is a MATERIALIZED or ALIAS column, which takes no values"};
            }
            if (const auto bad = check_value(column.type, value, options_, scratch)) {
                if (out == nullptr) return RowFault{i, column.name, to_string(column.type), bad};
                const auto before = out->size();
                out->append(row.substr(copied, i - copied));
                if (!coerce_value(column.type, value, options_, scratch, *out) ||
                    check_value(column.type, std::string_view(*out).substr(before + i - copied),
                                options_, scratch) != nullptr) {
                    out->clear();
                    return RowFault{i, column.name, to_string(column.type), bad};
                }
                copied = value_scan.end;
            }
        }
        i = value_scan.end;
        skip_space(row, i);
        if (i >= row.size() || row[i] != ',') {
            if (out != nullptr && copied != 0) out->append(row.substr(copied));
            return std::nullopt;
        }
        ++i;
        skip_space(row, i);
    }
}

}  // namespace chgate::ingest
