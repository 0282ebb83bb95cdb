// gguf_types: GGUF metadata value types, the parsed value / array views, and tensor infos
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/quant/qtype.hpp>

#include <array>
#include <bit>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

static_assert(std::endian::native == std::endian::little, "llmt reads GGUF (little-endian) in place");

LLMT_BEGIN_NAMESPACE
namespace io {

/// GGUF metadata value types (on-disk ids).
enum class gguf_type : std::uint32_t {
    uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6,
    boolean = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12,
};
inline constexpr std::uint32_t gguf_type_count = 13;

constexpr std::string_view name(gguf_type t) noexcept {
    constexpr std::string_view names[] = {"uint8", "int8",  "uint16", "int16",  "uint32", "int32", "float32",
                                          "bool",  "string", "array", "uint64", "int64",  "float64"};
    return std::uint32_t(t) < gguf_type_count ? names[std::uint32_t(t)] : std::string_view("unknown");
}

/// Size in bytes of a fixed-size value type; 0 for string and array.
constexpr std::size_t fixed_size(gguf_type t) noexcept {
    switch (t) {
        case gguf_type::uint8: case gguf_type::int8: case gguf_type::boolean: return 1;
        case gguf_type::uint16: case gguf_type::int16: return 2;
        case gguf_type::uint32: case gguf_type::int32: case gguf_type::float32: return 4;
        case gguf_type::uint64: case gguf_type::int64: case gguf_type::float64: return 8;
        default: return 0;
    }
}

constexpr bool is_signed_int(gguf_type t) noexcept {
    return t == gguf_type::int8 || t == gguf_type::int16 || t == gguf_type::int32 || t == gguf_type::int64;
}
constexpr bool is_unsigned_int(gguf_type t) noexcept {
    return t == gguf_type::uint8 || t == gguf_type::uint16 || t == gguf_type::uint32 || t == gguf_type::uint64;
}
constexpr bool is_float(gguf_type t) noexcept { return t == gguf_type::float32 || t == gguf_type::float64; }

/// The GGUF type that stores a C++ type exactly (for typed array views).
template <typename T> struct gguf_type_of;
template <> struct gguf_type_of<std::uint8_t> { static constexpr gguf_type value = gguf_type::uint8; };
template <> struct gguf_type_of<std::int8_t> { static constexpr gguf_type value = gguf_type::int8; };
template <> struct gguf_type_of<std::uint16_t> { static constexpr gguf_type value = gguf_type::uint16; };
template <> struct gguf_type_of<std::int16_t> { static constexpr gguf_type value = gguf_type::int16; };
template <> struct gguf_type_of<std::uint32_t> { static constexpr gguf_type value = gguf_type::uint32; };
template <> struct gguf_type_of<std::int32_t> { static constexpr gguf_type value = gguf_type::int32; };
template <> struct gguf_type_of<float> { static constexpr gguf_type value = gguf_type::float32; };
template <> struct gguf_type_of<bool> { static constexpr gguf_type value = gguf_type::boolean; };
template <> struct gguf_type_of<std::uint64_t> { static constexpr gguf_type value = gguf_type::uint64; };
template <> struct gguf_type_of<std::int64_t> { static constexpr gguf_type value = gguf_type::int64; };
template <> struct gguf_type_of<double> { static constexpr gguf_type value = gguf_type::float64; };

namespace detail {
/// Converts a stored scalar to T if it fits exactly (integers) or converts sensibly (floats).
template <typename T>
std::optional<T> convert_scalar(gguf_type type, std::int64_t i, std::uint64_t u, double d) {
    if constexpr (std::is_same_v<T, bool>) {
        if (type == gguf_type::boolean) return u != 0;
        return std::nullopt;
    } else if constexpr (std::is_integral_v<T>) {
        if (is_unsigned_int(type)) {
            if (u > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
            return static_cast<T>(u);
        }
        if (is_signed_int(type)) {
            if constexpr (std::is_unsigned_v<T>) {
                if (i < 0 || static_cast<std::uint64_t>(i) > std::numeric_limits<T>::max()) return std::nullopt;
            } else {
                if (i < std::numeric_limits<T>::min() || i > std::numeric_limits<T>::max()) return std::nullopt;
            }
            return static_cast<T>(i);
        }
        return std::nullopt;
    } else if constexpr (std::is_floating_point_v<T>) {
        if (is_float(type)) return static_cast<T>(d);
        if (is_unsigned_int(type)) return static_cast<T>(u);
        if (is_signed_int(type)) return static_cast<T>(i);
        return std::nullopt;
    } else {
        static_assert(sizeof(T) == 0, "gguf scalars convert to bool, integers and floating point");
    }
}
}  // namespace detail

struct gguf_array;

/// One metadata value, as read. Strings view the file's bytes: valid while the gguf_file lives.
struct gguf_value {
    gguf_type type = gguf_type::uint8;
    std::int64_t i = 0;   // signed integers
    std::uint64_t u = 0;  // unsigned integers and bool; float32 / float64: the raw bits as read
    double d = 0;         // float32 / float64
    std::string_view str;                      // type == string
    std::shared_ptr<const gguf_array> array;   // type == array

    /// The value as T when it converts without loss (integers widen, never narrow past range).
    template <typename T>
    [[nodiscard]] std::optional<T> as() const {
        if constexpr (std::is_same_v<T, std::string_view>) {
            if (type == gguf_type::string) return str;
            return std::nullopt;
        } else {
            return detail::convert_scalar<T>(type, i, u, d);
        }
    }
};

/// An array value. Numeric elements are copied into aligned storage so typed spans are valid.
struct gguf_array {
    gguf_type type = gguf_type::uint8;  // element type
    std::uint64_t count = 0;
    std::vector<std::uint64_t> storage;            // numeric: count * fixed_size(type) bytes
    std::vector<std::string_view> strings;         // type == string
    std::vector<gguf_value> arrays;                // type == array (arrays of arrays)

    [[nodiscard]] std::span<const std::byte> raw() const noexcept {
        return {reinterpret_cast<const std::byte*>(storage.data()), static_cast<std::size_t>(count) * fixed_size(type)};
    }

    /// A typed view; T must be exactly the element type (e.g. float for float32), with two
    /// extras: bool arrays view as std::uint8_t (0 or 1), arrays of arrays as gguf_value.
    template <typename T>
    [[nodiscard]] std::span<const T> view() const {
        if constexpr (std::is_same_v<T, std::string_view>) {
            LLMT_CHECK_CODE(type == gguf_type::string, errc::invalid_argument,
                            "gguf array holds {} elements, not string", name(type));
            return strings;
        } else if constexpr (std::is_same_v<T, gguf_value>) {
            LLMT_CHECK_CODE(type == gguf_type::array, errc::invalid_argument,
                            "gguf array holds {} elements, not array", name(type));
            return arrays;
        } else {
            static_assert(!std::is_same_v<T, bool>, "view bool arrays as std::uint8_t");
            const bool ok = type == gguf_type_of<T>::value ||
                            (std::is_same_v<T, std::uint8_t> && type == gguf_type::boolean);
            LLMT_CHECK_CODE(ok, errc::invalid_argument,
                            "gguf array holds {} elements, not {}", name(type), name(gguf_type_of<T>::value));
            return {reinterpret_cast<const T*>(storage.data()), static_cast<std::size_t>(count)};
        }
    }

    /// The elements converted to T (integers widen safely; an element out of T's range throws).
    template <typename T>
    [[nodiscard]] std::vector<T> to_vector() const {
        std::vector<T> out;
        if (type == gguf_type::string || type == gguf_type::array) {
            if constexpr (std::is_same_v<T, std::string_view>) {
                if (type == gguf_type::string) return strings;
            }
            fail(errc::invalid_argument, "gguf array of {} cannot convert to numbers", name(type));
        }
        out.reserve(count);
        const auto bytes = raw();
        const std::size_t sz = fixed_size(type);
        for (std::uint64_t k = 0; k < count; ++k) {
            gguf_value v = element(bytes.data() + k * sz);
            auto x = v.template as<T>();
            LLMT_CHECK_CODE(x.has_value(), errc::invalid_argument,
                            "gguf array element {} ({}) does not fit the requested type", k, name(type));
            out.push_back(*x);
        }
        return out;
    }

    /// Decodes one fixed-size element at p.
    [[nodiscard]] gguf_value element(const std::byte* p) const;
};

namespace detail {
template <typename T>
T load_le(const std::byte* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

/// Decodes a fixed-size scalar of type t at p.
inline gguf_value decode_scalar(gguf_type t, const std::byte* p) {
    gguf_value v;
    v.type = t;
    switch (t) {
        case gguf_type::uint8: v.u = load_le<std::uint8_t>(p); break;
        case gguf_type::int8: v.i = load_le<std::int8_t>(p); break;
        case gguf_type::uint16: v.u = load_le<std::uint16_t>(p); break;
        case gguf_type::int16: v.i = load_le<std::int16_t>(p); break;
        case gguf_type::uint32: v.u = load_le<std::uint32_t>(p); break;
        case gguf_type::int32: v.i = load_le<std::int32_t>(p); break;
        case gguf_type::float32: v.d = load_le<float>(p); v.u = load_le<std::uint32_t>(p); break;
        case gguf_type::boolean: v.u = load_le<std::uint8_t>(p); break;
        case gguf_type::uint64: v.u = load_le<std::uint64_t>(p); break;
        case gguf_type::int64: v.i = load_le<std::int64_t>(p); break;
        case gguf_type::float64: v.d = load_le<double>(p); v.u = load_le<std::uint64_t>(p); break;
        default: fail(errc::invalid_argument, "gguf type {} is not a fixed-size scalar", name(t));
    }
    return v;
}
}  // namespace detail

inline gguf_value gguf_array::element(const std::byte* p) const { return detail::decode_scalar(type, p); }

/// One metadata key/value pair.
struct gguf_kv {
    std::string_view key;
    gguf_value value;
    std::uint64_t offset = 0;  // byte offset of the record in the file (for messages)
};

inline constexpr std::uint32_t gguf_max_dims = 4;

/// One tensor's description. ne[0] is the row length (fastest varying); unused dims are 1.
struct gguf_tensor_info {
    std::string_view name;
    quant::qtype type = quant::qtype::f32;
    std::uint32_t n_dims = 0;
    std::array<std::uint64_t, gguf_max_dims> ne{1, 1, 1, 1};
    std::uint64_t offset = 0;      // from the start of the data section
    std::uint64_t n_elements = 0;
    std::uint64_t n_bytes = 0;
    std::uint64_t info_offset = 0; // byte offset of this record in the file (for messages)

    [[nodiscard]] std::uint64_t n_rows() const noexcept { return n_elements / ne[0]; }
    [[nodiscard]] std::uint64_t row_bytes() const noexcept { return n_bytes / n_rows(); }
};

}  // namespace io
LLMT_END_NAMESPACE
