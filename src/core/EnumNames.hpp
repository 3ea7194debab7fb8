#pragma once

#include <span>
#include <string_view>

namespace chgate::core {

/// One row of an enum's name table. Each enum that is parsed or printed has
/// one such table, and both directions walk it, so a name is written once.
template <class E>
struct EnumName {
    E value;
    std::string_view name;
};

/// The name of `value` in `names`; "?" for a value the table lacks (a bug).
template <class E>
constexpr std::string_view name_of(std::span<const EnumName<E>> names, E value) {
    for (const auto& n : names) {
        if (n.value == value) return n.name;
    }
    return "?";
}

/// The value named `text` in `names`: false (and `out` untouched) when none is.
template <class E>
constexpr bool value_of(std::span<const EnumName<E>> names, std::string_view text, E& out) {
    for (const auto& n : names) {
        if (n.name == text) {
            out = n.value;
            return true;
        }
    }
    return false;
}

template <class E, std::size_t N>
constexpr std::string_view name_of(const EnumName<E> (&names)[N], E value) {
    return name_of(std::span<const EnumName<E>>(names), value);
}

template <class E, std::size_t N>
constexpr bool value_of(const EnumName<E> (&names)[N], std::string_view text, E& out) {
    return value_of(std::span<const EnumName<E>>(names), text, out);
}

}  // namespace chgate::core
