#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chgate {

/// The length of the well-formed UTF-8 sequence starting at `p` (a byte >=
/// 0x80), or 0 if it is not one: no overlong forms, no UTF-16 surrogates,
/// nothing above U+10FFFF (RFC 3629).
inline std::size_t utf8_sequence(const unsigned char* p, std::size_t avail) {
    const unsigned char b0 = p[0];
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
        if (b0 == 0xED) hi = 0x9F;  // no UTF-16 surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (avail < len) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (std::size_t i = 2; i < len; ++i) {
        if ((p[i] & 0xC0) != 0x80) return 0;
    }
    return len;
}

/// The contents of a JSON string (without the quotes) for any bytes: quotes,
/// backslashes and control characters escaped, and every byte that is not
/// part of well-formed UTF-8 replaced by \ufffd, so the result is always
/// valid JSON whatever a client or ClickHouse sent.
std::string json_escape(std::string_view s);

/// Text that is safe to put on one log line: control characters, DEL and
/// bytes that are not well-formed UTF-8 are written as \n, \t, \xNN, so that
/// nobody (a client, a ClickHouse error quoting a client's row) can forge
/// log lines or send a terminal escape sequence. At most `max_bytes` of the
/// input are kept; the rest is cut and counted.
std::string escape_for_log(std::string_view s, std::size_t max_bytes = 8192);

}  // namespace chgate
