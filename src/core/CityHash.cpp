#include "core/CityHash.hpp"

#include <cstring>
#include <utility>

// Written from the algorithm of CityHash 1.0.2 (Geoff Pike and Jyrki
// Alakuijala, Google), for little-endian machines. Its values are checked
// against ClickHouse's own cityHash64 in tests/unit/core/CityHashTest.cpp.

namespace chgate::core {
namespace {

constexpr std::uint64_t kPrime0 = 0xc3a5c85c97cb3127ULL;
constexpr std::uint64_t kPrime1 = 0xb492b66fbe98f273ULL;
constexpr std::uint64_t kPrime2 = 0x9ae16a3b2f90404fULL;
constexpr std::uint64_t kPrime3 = 0xc949d7c7509e6557ULL;

std::uint64_t load64(const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

std::uint64_t load32(const char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Right rotation; a shift of 0 leaves the value as it is.
std::uint64_t rotr(std::uint64_t v, unsigned shift) {
    return shift == 0 ? v : (v >> shift) | (v << (64 - shift));
}

std::uint64_t shift_mix(std::uint64_t v) {
    return v ^ (v >> 47);
}

std::uint64_t short_hash(const char* s, std::size_t n) {  // 0 to 16 bytes
    if (n > 8) {
        const auto first = load64(s);
        const auto last = load64(s + n - 8);
        return hash128_to_64(first, rotr(last + n, static_cast<unsigned>(n))) ^ last;
    }
    if (n >= 4) {
        const auto first = load32(s);
        return hash128_to_64(n + (first << 3), load32(s + n - 4));
    }
    if (n == 0) return kPrime2;
    const std::uint32_t a = static_cast<std::uint8_t>(s[0]);
    const std::uint32_t b = static_cast<std::uint8_t>(s[n >> 1]);
    const std::uint32_t c = static_cast<std::uint8_t>(s[n - 1]);
    const std::uint32_t y = a + (b << 8);
    const std::uint32_t z = static_cast<std::uint32_t>(n) + (c << 2);
    return shift_mix(y * kPrime2 ^ z * kPrime3) * kPrime2;
}

std::uint64_t medium_hash(const char* s, std::size_t n) {  // 17 to 32 bytes
    const auto a = load64(s) * kPrime1;
    const auto b = load64(s + 8);
    const auto c = load64(s + n - 8) * kPrime2;
    const auto d = load64(s + n - 16) * kPrime0;
    return hash128_to_64(rotr(a - b, 43) + rotr(c, 30) + d, a + rotr(b ^ kPrime3, 20) - c + n);
}

std::uint64_t long_hash(const char* s, std::size_t n) {  // 33 to 64 bytes
    auto z = load64(s + 24);
    auto a = load64(s) + (n + load64(s + n - 16)) * kPrime0;
    auto b = rotr(a + z, 52);
    auto c = rotr(a, 37);
    a += load64(s + 8);
    c += rotr(a, 7);
    a += load64(s + 16);
    const auto vf = a + z;
    const auto vs = b + rotr(a, 31) + c;
    a = load64(s + 16) + load64(s + n - 32);
    z = load64(s + n - 8);
    b = rotr(a + z, 52);
    c = rotr(a, 37);
    a += load64(s + n - 24);
    c += rotr(a, 7);
    a += load64(s + n - 16);
    const auto wf = a + z;
    const auto ws = b + rotr(a, 31) + c;
    const auto r = shift_mix((vf + ws) * kPrime2 + (wf + vs) * kPrime0);
    return shift_mix(r * kPrime0 + vs) * kPrime2;
}

// 32 bytes at `s` mixed with two seeds into a pair.
std::pair<std::uint64_t, std::uint64_t> mix32(const char* s, std::uint64_t a, std::uint64_t b) {
    const auto w = load64(s), x = load64(s + 8), y = load64(s + 16), z = load64(s + 24);
    a += w;
    b = rotr(b + a + z, 21);
    const auto c = a;
    a += x;
    a += y;
    b += rotr(a, 44);
    return {a + z, b + c};
}

std::uint64_t chunked_hash(const char* s, std::size_t n) {  // over 64 bytes
    // The end first; then 64-byte chunks from the start, keeping 56 bytes of state.
    auto x = load64(s);
    auto y = load64(s + n - 16) ^ kPrime1;
    auto z = load64(s + n - 56) ^ kPrime0;
    auto v = mix32(s + n - 64, n, y);
    auto w = mix32(s + n - 32, n * kPrime1, kPrime0);
    z += shift_mix(v.second) * kPrime1;
    x = rotr(z + x, 39) * kPrime1;
    y = rotr(y, 33) * kPrime1;
    for (std::size_t left = (n - 1) & ~std::size_t{63}; left != 0; left -= 64, s += 64) {
        x = rotr(x + y + v.first + load64(s + 16), 37) * kPrime1;
        y = rotr(y + v.second + load64(s + 48), 42) * kPrime1;
        x ^= w.second;
        y ^= v.first;
        z = rotr(z ^ w.first, 33);
        v = mix32(s, v.second * kPrime1, x + w.first);
        w = mix32(s + 32, z + w.second, y);
        std::swap(z, x);
    }
    return hash128_to_64(hash128_to_64(v.first, w.first) + shift_mix(y) * kPrime1 + z,
                         hash128_to_64(v.second, w.second) + x);
}

}  // namespace

std::uint64_t hash128_to_64(std::uint64_t low, std::uint64_t high) {
    constexpr std::uint64_t kMul = 0x9ddfea08eb382d69ULL;
    auto a = (low ^ high) * kMul;
    a ^= a >> 47;
    auto b = (high ^ a) * kMul;
    b ^= b >> 47;
    return b * kMul;
}

std::uint64_t city_hash64(std::string_view bytes) {
    const char* s = bytes.data();
    const auto n = bytes.size();
    if (n <= 16) return short_hash(s, n);
    if (n <= 32) return medium_hash(s, n);
    if (n <= 64) return long_hash(s, n);
    return chunked_hash(s, n);
}

std::uint64_t int_hash64(std::uint64_t x) {
    // MurmurHash3's finalizer, over the value xor-ed with a constant first
    // (so that 0 does not hash to 0).
    x ^= 0x4cf2d2baae6da887ULL;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

std::uint64_t city_hash64_of_integer(std::uint64_t bits) {
    return int_hash64(bits);
}

}  // namespace chgate::core
