#include "util/Text.hpp"

#include <cstdio>

namespace chgate {

namespace {

// Appends the escape both formats share for `c` (backslash, \n, \r, \t);
// false for any other byte.
bool append_short_escape(std::string& out, unsigned char c) {
    switch (c) {
        case '\\':
            out += "\\\\";
            return true;
        case '\n':
            out += "\\n";
            return true;
        case '\r':
            out += "\\r";
            return true;
        case '\t':
            out += "\\t";
            return true;
        default:
            return false;
    }
}

// Calls `plain(begin, length)` for each run of printable ASCII and well-formed
// UTF-8 in `s`, and `other(byte)` for every other byte; `keep(c)` says which
// ASCII bytes are plain.
template <typename Keep, typename Plain, typename Other>
void split_text(std::string_view s, Keep keep, Plain plain, Other other) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    for (std::size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        std::size_t len = 0;
        if (c >= 0x80) {
            len = utf8_sequence(p + i, n - i);
        } else if (keep(c)) {
            len = 1;
        }
        if (len > 0) {
            plain(s.data() + i, len);
            i += len;
        } else {
            other(c);
            ++i;
        }
    }
}

}  // namespace

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    split_text(
        s, [](unsigned char c) { return c >= 0x20 && c != '"' && c != '\\'; },
        [&](const char* p, std::size_t n) { out.append(p, n); },
        [&](unsigned char c) {
            if (c >= 0x80) {
                out += "\\ufffd";  // not part of well-formed UTF-8
            } else if (c == '"') {
                out += "\\\"";
            } else if (!append_short_escape(out, c)) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            }
        });
    return out;
}

std::string escape_for_log(std::string_view s, std::size_t max_bytes) {
    const auto cut = s.size() > max_bytes ? s.size() - max_bytes : 0;
    if (cut > 0) s = s.substr(0, max_bytes);
    std::string out;
    out.reserve(s.size() + 16);
    split_text(
        s, [](unsigned char c) { return c >= 0x20 && c < 0x7f && c != '\\'; },
        [&](const char* p, std::size_t n) { out.append(p, n); },
        [&](unsigned char c) {
            if (!append_short_escape(out, c)) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", c);
                out += buf;
            }
        });
    if (cut > 0) out += "… (" + std::to_string(cut) + " more bytes cut)";
    return out;
}

}  // namespace chgate
