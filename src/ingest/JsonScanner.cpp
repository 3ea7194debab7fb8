#include "ingest/JsonScanner.hpp"

#include "util/Text.hpp"

#include <array>
#include <bitset>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace chgate::ingest {

const char* describe(JsonFault fault) {
    switch (fault) {
        case JsonFault::none:
            return "no error";
        case JsonFault::unexpected_end:
            return "the JSON ends too early";
        case JsonFault::unexpected_char:
            return "unexpected character";
        case JsonFault::bad_literal:
            return "invalid literal (expected true, false or null)";
        case JsonFault::bad_number:
            return "invalid number";
        case JsonFault::bad_escape:
            return "invalid escape sequence in a string";
        case JsonFault::control_char:
            return "unescaped control character in a string";
        case JsonFault::bad_utf8:
            return "invalid UTF-8";
        case JsonFault::too_deep:
            return "nesting too deep";
    }
    return "invalid JSON";
}

namespace {

// Bytes that end the fast run inside a string: quote, backslash, controls, non-ASCII.
constexpr std::array<bool, 256> make_string_stops() {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c)
        t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
    return t;
}
constexpr auto kStringStops = make_string_stops();

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

class Scanner {
  public:
    Scanner(std::string_view text, std::size_t pos) : s_(text.data()), n_(text.size()), i_(pos) {}

    ValueScan run() {
        // Containers are tracked on a bit stack: 1 = object, 0 = array.
        std::bitset<kMaxDepth> is_object;
        std::size_t depth = 0;
        for (;;) {
            // Expect a value.
            skip_space();
            if (i_ >= n_) return fail(JsonFault::unexpected_end);
            const char c = s_[i_];
            if (c == '{' || c == '[') {
                if (depth == kMaxDepth) return fail(JsonFault::too_deep);
                is_object[depth++] = (c == '{');
                ++i_;
                skip_space();
                if (i_ >= n_) return fail(JsonFault::unexpected_end);
                if (s_[i_] == (c == '{' ? '}' : ']')) {
                    ++i_;
                    --depth;
                } else if (c == '{') {
                    if (!key()) return result_;
                    continue;
                } else {
                    continue;
                }
            } else if (!scalar()) {
                return result_;
            }
            // After a value: close containers or move to the next member.
            for (;;) {
                if (depth == 0) {
                    result_.end = i_;
                    return result_;
                }
                skip_space();
                if (i_ >= n_) return fail(JsonFault::unexpected_end);
                const char d = s_[i_];
                const bool in_object = is_object[depth - 1];
                if (d == ',') {
                    ++i_;
                    if (in_object) {
                        skip_space();
                        if (!key()) return result_;
                    }
                    break;
                }
                if (d == (in_object ? '}' : ']')) {
                    ++i_;
                    --depth;
                    continue;
                }
                return fail(JsonFault::unexpected_char);
            }
        }
    }

  private:
    ValueScan fail(JsonFault f) {
        result_.fault = f;
        result_.fault_offset = i_ < n_ ? i_ : n_;
        return result_;
    }

    void skip_space() {
        while (i_ < n_ && is_json_space(s_[i_])) {
            if (s_[i_] == '\n' || s_[i_] == '\r') result_.has_line_break = true;
            ++i_;
        }
    }

    // A member name and its colon; the value follows.
    bool key() {
        if (i_ >= n_) return (fail(JsonFault::unexpected_end), false);
        if (s_[i_] != '"') return (fail(JsonFault::unexpected_char), false);
        if (!string()) return false;
        skip_space();
        if (i_ >= n_) return (fail(JsonFault::unexpected_end), false);
        if (s_[i_] != ':') return (fail(JsonFault::unexpected_char), false);
        ++i_;
        return true;
    }

    bool scalar() {
        const char c = s_[i_];
        if (c == '"') return string();
        if (c == '-' || is_digit(c)) return number();
        if (c == 't') return literal("true");
        if (c == 'f') return literal("false");
        if (c == 'n') return literal("null");
        fail(JsonFault::unexpected_char);
        return false;
    }

    bool literal(std::string_view word) {
        if (n_ - i_ < word.size() || std::string_view(s_ + i_, word.size()) != word) {
            fail(JsonFault::bad_literal);
            return false;
        }
        i_ += word.size();
        return true;
    }

    bool number() {
        if (s_[i_] == '-') ++i_;
        if (i_ >= n_) return (fail(JsonFault::bad_number), false);
        if (s_[i_] == '0') {
            ++i_;
        } else if (is_digit(s_[i_])) {
            while (i_ < n_ && is_digit(s_[i_]))
                ++i_;
        } else {
            return (fail(JsonFault::bad_number), false);
        }
        if (i_ < n_ && s_[i_] == '.') {
            ++i_;
            if (i_ >= n_ || !is_digit(s_[i_])) return (fail(JsonFault::bad_number), false);
            while (i_ < n_ && is_digit(s_[i_]))
                ++i_;
        }
        if (i_ < n_ && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < n_ && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            if (i_ >= n_ || !is_digit(s_[i_])) return (fail(JsonFault::bad_number), false);
            while (i_ < n_ && is_digit(s_[i_]))
                ++i_;
        }
        return true;
    }

    // Moves i_ to the next byte of a string that needs a look (see
    // kStringStops), or to the end. 16 bytes a step where SSE2 is there (all
    // x86-64): most of an event's bytes are plain ASCII inside strings.
    void skip_plain_string_bytes() {
#if defined(__SSE2__)
        const __m128i space = _mm_set1_epi8(0x20);
        const __m128i quote = _mm_set1_epi8('"');
        const __m128i backslash = _mm_set1_epi8('\\');
        while (n_ - i_ >= 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s_ + i_));
            // Signed: bytes >= 0x80 are negative, so "< 0x20" takes them and controls.
            const __m128i stop =
                _mm_or_si128(_mm_cmplt_epi8(v, space),
                             _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
            const int mask = _mm_movemask_epi8(stop);
            if (mask != 0) {
                i_ += static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
                return;
            }
            i_ += 16;
        }
#endif
        while (i_ < n_ && !kStringStops[static_cast<unsigned char>(s_[i_])])
            ++i_;
    }

    bool string() {
        ++i_;  // the opening quote
        for (;;) {
            skip_plain_string_bytes();
            if (i_ >= n_) return (fail(JsonFault::unexpected_end), false);
            const auto c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') {
                ++i_;
                return true;
            }
            if (c == '\\') {
                if (!escape()) return false;
                continue;
            }
            if (c < 0x20) return (fail(JsonFault::control_char), false);
            const auto len =
                utf8_sequence(reinterpret_cast<const unsigned char*>(s_ + i_), n_ - i_);
            if (len == 0) return (fail(JsonFault::bad_utf8), false);
            i_ += len;
        }
    }

    bool escape() {
        ++i_;  // the backslash
        if (i_ >= n_) return (fail(JsonFault::unexpected_end), false);
        switch (s_[i_]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                ++i_;
                return true;
            case 'u':
                ++i_;
                for (int k = 0; k < 4; ++k, ++i_) {
                    if (i_ >= n_) return (fail(JsonFault::unexpected_end), false);
                    if (!is_hex(s_[i_])) return (fail(JsonFault::bad_escape), false);
                }
                return true;
            default:
                fail(JsonFault::bad_escape);
                return false;
        }
    }

    const char* s_;
    std::size_t n_;
    std::size_t i_;
    ValueScan result_;
};

}  // namespace

ValueScan scan_value(std::string_view text, std::size_t pos) {
    return Scanner(text, pos).run();
}

}  // namespace chgate::ingest
