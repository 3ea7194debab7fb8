#include "ingest/BodyDecoder.hpp"

#include "ingest/JsonScanner.hpp"

namespace chgate::ingest {
namespace {

std::size_t skip_space(std::string_view s, std::size_t i) {
    while (i < s.size() && is_json_space(s[i]))
        ++i;
    return i;
}

bool fail(DecodeError& error, std::size_t index, std::size_t offset, std::string message) {
    error.index = index;
    error.offset = offset;
    error.message = std::move(message);
    return false;
}

/// Validates one event at `i`: it must be an object. Appends its slice.
bool take_object(std::string_view body, std::size_t& i, std::vector<RowSlice>& rows,
                 DecodeError& error) {
    const auto index = rows.size();
    if (body[i] != '{') {
        return fail(error, index, i, "event " + std::to_string(index) + " is not a JSON object");
    }
    const auto scan = scan_value(body, i);
    if (!scan.ok()) {
        return fail(
            error, index, scan.fault_offset,
            "event " + std::to_string(index) + " is not valid JSON: " + describe(scan.fault));
    }
    rows.push_back(RowSlice{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(scan.end - i),
                            scan.has_line_break});
    i = scan.end;
    return true;
}

bool decode_array(std::string_view body, std::size_t i, std::vector<RowSlice>& rows,
                  DecodeError& error) {
    i = skip_space(body, i + 1);
    if (i < body.size() && body[i] == ']') {
        i = skip_space(body, i + 1);
    } else {
        for (;;) {
            if (i >= body.size()) {
                return fail(error, rows.size(), i, "the JSON array is not closed");
            }
            if (!take_object(body, i, rows, error)) return false;
            i = skip_space(body, i);
            if (i >= body.size()) {
                return fail(error, rows.size(), i, "the JSON array is not closed");
            }
            if (body[i] == ',') {
                i = skip_space(body, i + 1);
                continue;
            }
            if (body[i] == ']') {
                i = skip_space(body, i + 1);
                break;
            }
            return fail(error, rows.size(), i, "expected , or ] after an event in the array");
        }
    }
    if (i != body.size()) {
        return fail(error, rows.size(), i, "unexpected data after the JSON array");
    }
    return true;
}

bool decode_sequence(std::string_view body, std::size_t i, std::vector<RowSlice>& rows,
                     DecodeError& error) {
    while (i < body.size()) {
        if (!take_object(body, i, rows, error)) return false;
        i = skip_space(body, i);
    }
    return true;
}

}  // namespace

bool decode_body(std::string_view body, BodyFormat format, std::vector<RowSlice>& rows,
                 DecodeError& error) {
    rows.clear();
    if (body.size() > kMaxDecodableBody) {
        return fail(error, 0, 0, "the body is too large to decode");
    }
    const auto start = skip_space(body, 0);
    if (start == body.size()) return fail(error, 0, start, "the body holds no events");
    if (format == BodyFormat::detect && body[start] == '[') {
        return decode_array(body, start, rows, error);
    }
    return decode_sequence(body, start, rows, error);
}

}  // namespace chgate::ingest
