// gguf_writer: builds GGUF files (v1-v3): every metadata type, arrays of arrays, aligned tensor data
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/io/atomic_output_file.hpp>
#include <llmt/io/gguf_types.hpp>
#include <llmt/quant/qtype.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace io {

/// A metadata value owned by the writer.
struct gguf_owned_value {
    gguf_type type = gguf_type::uint8;
    std::vector<std::byte> scalar;  // fixed-size scalar bytes
    std::string str;
    gguf_type elem = gguf_type::uint8;     // arrays: element type
    std::uint64_t count = 0;               // arrays: element count
    std::vector<std::byte> raw;            // arrays of fixed-size elements
    std::vector<std::string> strings;      // arrays of strings
    std::vector<gguf_owned_value> arrays;  // arrays of arrays

    template <typename T>
    static gguf_owned_value of(T v) {
        gguf_owned_value o;
        if constexpr (std::is_convertible_v<T, std::string_view>) {
            o.type = gguf_type::string;
            o.str = std::string(std::string_view(v));
        } else {
            o.type = gguf_type_of<T>::value;
            o.scalar.resize(sizeof(T));
            if constexpr (std::is_same_v<T, bool>) {
                o.scalar[0] = std::byte(v ? 1 : 0);
            } else {
                std::memcpy(o.scalar.data(), &v, sizeof(T));
            }
        }
        return o;
    }
    template <typename T>
    static gguf_owned_value array_of(std::span<const T> xs) {
        gguf_owned_value o;
        o.type = gguf_type::array;
        o.count = xs.size();
        if constexpr (std::is_convertible_v<T, std::string_view>) {
            o.elem = gguf_type::string;
            for (const auto& s : xs) o.strings.emplace_back(std::string_view(s));
        } else if constexpr (std::is_same_v<T, gguf_owned_value>) {
            o.elem = gguf_type::array;
            for (const auto& a : xs) {
                LLMT_CHECK_CODE(a.type == gguf_type::array, errc::invalid_argument, "array_of(values): every element must be an array");
                o.arrays.push_back(a);
            }
        } else {
            o.elem = gguf_type_of<T>::value;
            o.raw.resize(xs.size() * sizeof(T));
            if constexpr (std::is_same_v<T, bool>) {
                for (std::size_t k = 0; k < xs.size(); ++k) o.raw[k] = std::byte(xs[k] ? 1 : 0);
            } else if (!xs.empty()) {
                std::memcpy(o.raw.data(), xs.data(), o.raw.size());
            }
        }
        return o;
    }
    template <typename T>
    static gguf_owned_value array_of(const std::vector<T>& xs) {
        if constexpr (std::is_same_v<T, bool>) {
            std::vector<std::uint8_t> tmp(xs.begin(), xs.end());
            gguf_owned_value o = array_of(std::span<const std::uint8_t>(tmp));
            o.elem = gguf_type::boolean;
            return o;
        } else {
            return array_of(std::span<const T>(xs));
        }
    }

    /// A deep copy of a value read from a file.
    static gguf_owned_value from(const gguf_value& v) {
        gguf_owned_value o;
        o.type = v.type;
        if (v.type == gguf_type::string) {
            o.str = std::string(v.str);
        } else if (v.type == gguf_type::array) {
            const gguf_array& a = *v.array;
            o.elem = a.type;
            o.count = a.count;
            if (a.type == gguf_type::string) {
                o.strings.assign(a.strings.begin(), a.strings.end());
            } else if (a.type == gguf_type::array) {
                for (const auto& x : a.arrays) o.arrays.push_back(from(x));
            } else {
                const auto r = a.raw();
                o.raw.assign(r.begin(), r.end());
            }
        } else {
            o.scalar.resize(fixed_size(v.type));
            const std::uint8_t u8 = static_cast<std::uint8_t>(v.u);
            const std::uint16_t u16 = static_cast<std::uint16_t>(v.u);
            const std::uint32_t u32 = static_cast<std::uint32_t>(v.u);
            const std::int8_t i8 = static_cast<std::int8_t>(v.i);
            const std::int16_t i16 = static_cast<std::int16_t>(v.i);
            const std::int32_t i32 = static_cast<std::int32_t>(v.i);
            float f32 = static_cast<float>(v.d);
            double f64 = v.d;
            // A NaN keeps the payload it was read with (a double round trip would quiet it).
            if (v.d != v.d) {
                const auto b32 = static_cast<std::uint32_t>(v.u);
                const auto b64 = v.u;
                float nf;
                double nd;
                std::memcpy(&nf, &b32, 4);
                std::memcpy(&nd, &b64, 8);
                if (v.type == gguf_type::float32 && nf != nf) f32 = nf;
                if (v.type == gguf_type::float64 && nd != nd) f64 = nd;
            }
            const void* src = nullptr;
            switch (v.type) {
                case gguf_type::uint8: case gguf_type::boolean: src = &u8; break;
                case gguf_type::int8: src = &i8; break;
                case gguf_type::uint16: src = &u16; break;
                case gguf_type::int16: src = &i16; break;
                case gguf_type::uint32: src = &u32; break;
                case gguf_type::int32: src = &i32; break;
                case gguf_type::float32: src = &f32; break;
                case gguf_type::uint64: src = &v.u; break;
                case gguf_type::int64: src = &v.i; break;
                case gguf_type::float64: src = &f64; break;
                default: break;
            }
            std::memcpy(o.scalar.data(), src, o.scalar.size());
        }
        return o;
    }
};

/// Builds a GGUF file in memory or streams it to disk. Keys and tensors keep insertion order.
class gguf_writer {
public:
    explicit gguf_writer(std::uint32_t version = 3) : version_(version) {
        LLMT_CHECK_CODE(version >= 1 && version <= 3, errc::invalid_argument, "gguf_writer: version {} (1, 2 or 3)", version);
    }

    /// Sets (or replaces) a key. T: an integer, float, double, bool, or something convertible to string_view.
    template <typename T>
    gguf_writer& set(std::string_view key, T value) {
        return set_value(key, gguf_owned_value::of(std::move(value)));
    }
    template <typename T>
    gguf_writer& set_array(std::string_view key, const std::vector<T>& xs) {
        return set_value(key, gguf_owned_value::array_of(xs));
    }
    template <typename T>
    gguf_writer& set_array(std::string_view key, std::span<const T> xs) {
        return set_value(key, gguf_owned_value::array_of(xs));
    }
    gguf_writer& set_value(std::string_view key, gguf_owned_value v) {
        if (key == "general.alignment") {
            LLMT_CHECK_CODE(v.type == gguf_type::uint32, errc::invalid_argument, "general.alignment must be uint32");
            std::uint32_t a;
            std::memcpy(&a, v.scalar.data(), 4);
            LLMT_CHECK_CODE(a != 0 && (a & (a - 1)) == 0, errc::invalid_argument, "general.alignment {} is not a power of two", a);
            alignment_ = a;
        }
        for (auto& kv : kvs_)
            if (kv.first == key) {
                kv.second = std::move(v);
                return *this;
            }
        kvs_.emplace_back(std::string(key), std::move(v));
        return *this;
    }
    gguf_writer& set_value(std::string_view key, const gguf_value& v) { return set_value(key, gguf_owned_value::from(v)); }
    gguf_writer& set_alignment(std::uint32_t a) { return set("general.alignment", a); }
    bool remove(std::string_view key) {
        for (auto it = kvs_.begin(); it != kvs_.end(); ++it)
            if (it->first == key) {
                if (key == "general.alignment") alignment_ = 32;
                kvs_.erase(it);
                return true;
            }
        return false;
    }

    /// Adds a tensor; ne[0] is the row length. The data is copied (must be exactly the tensor's size).
    gguf_writer& add_tensor(std::string_view name, quant::qtype type, std::span<const std::uint64_t> ne,
                            std::span<const std::byte> data) {
        LLMT_CHECK_CODE(!ne.empty() && ne.size() <= gguf_max_dims, errc::invalid_argument,
                        "tensor '{}': {} dimensions (1 to 4)", name, ne.size());
        LLMT_CHECK_CODE(quant::is_sized(std::uint32_t(type)), errc::invalid_argument, "tensor '{}': type cannot be stored", name);
        std::uint64_t n = 1;
        for (auto d : ne) {
            LLMT_CHECK_CODE(d != 0 && n <= static_cast<std::uint64_t>(INT64_MAX) / d, errc::invalid_argument,
                            "tensor '{}': a zero dimension or an element count past 2^63", name);
            n *= d;
        }
        LLMT_CHECK_CODE(ne[0] % quant::block_size(type) == 0, errc::invalid_argument,
                        "tensor '{}': row length {} is not a multiple of the {} block size {}", name, ne[0],
                        quant::name(type), quant::block_size(type));
        const std::uint64_t bytes = n / quant::block_size(type) * quant::type_size(type);
        LLMT_CHECK_CODE(bytes == data.size(), errc::invalid_argument, "tensor '{}': {} bytes given, {} expected", name,
                        data.size(), bytes);
        for (const auto& t : tensors_)
            LLMT_CHECK_CODE(t.name != name, errc::invalid_argument, "duplicate tensor name '{}'", name);
        tensor t;
        t.name = std::string(name);
        t.type = type;
        t.ne.assign(ne.begin(), ne.end());
        t.data.assign(data.begin(), data.end());
        tensors_.push_back(std::move(t));
        return *this;
    }
    template <typename T>
    gguf_writer& add_tensor(std::string_view name, quant::qtype type, std::initializer_list<std::uint64_t> ne,
                            std::span<const T> data) {
        return add_tensor(name, type, std::span<const std::uint64_t>(ne.begin(), ne.size()), std::as_bytes(data));
    }

    /// Adds a tensor whose bytes are produced only when the file is written (write(path, fill)):
    /// a file larger than memory can be streamed out. Same checks as add_tensor.
    gguf_writer& add_tensor_info(std::string_view name, quant::qtype type, std::span<const std::uint64_t> ne) {
        LLMT_CHECK_CODE(!ne.empty() && ne.size() <= gguf_max_dims, errc::invalid_argument,
                        "tensor '{}': {} dimensions (1 to 4)", name, ne.size());
        LLMT_CHECK_CODE(quant::is_sized(std::uint32_t(type)), errc::invalid_argument, "tensor '{}': type cannot be stored", name);
        std::uint64_t n = 1;
        for (auto d : ne) {
            LLMT_CHECK_CODE(d != 0 && n <= (~std::uint64_t(0) >> 1) / d, errc::invalid_argument,
                            "tensor '{}': a zero dimension or an element count past 2^63", name);
            n *= d;
        }
        LLMT_CHECK_CODE(ne[0] % quant::block_size(type) == 0, errc::invalid_argument,
                        "tensor '{}': row length {} is not a multiple of the {} block size {}", name, ne[0],
                        quant::name(type), quant::block_size(type));
        for (const auto& t : tensors_)
            LLMT_CHECK_CODE(t.name != name, errc::invalid_argument, "duplicate tensor name '{}'", name);
        tensor t;
        t.name = std::string(name);
        t.type = type;
        t.ne.assign(ne.begin(), ne.end());
        t.deferred = true;
        t.size = n / quant::block_size(type) * quant::type_size(type);
        tensors_.push_back(std::move(t));
        return *this;
    }

    /// Writes the file, streaming each tensor added with add_tensor_info through
    /// fill(index_among_those, out), where out(const void*, std::size_t) appends bytes; fill must
    /// write exactly the tensor's size.
    /// The file appears at `path` only once complete (io::atomic_output_file): a failure leaves
    /// whatever was there untouched.
    template <typename Fill>
    void write(const std::filesystem::path& path, Fill&& fill) const {
        atomic_output_file out(path);
        write(out, std::forward<Fill>(fill));
    }
    /// Writes into `out` and commits it (an output created with the inputs it must not replace).
    template <typename Fill>
    void write(atomic_output_file& out, Fill&& fill) const {
        emit([&](const void* p, std::size_t n) { out.write(p, n); }, fill);
        out.commit();
    }

    [[nodiscard]] std::vector<std::byte> to_bytes() const {
        std::vector<std::byte> out;
        emit([&](const void* p, std::size_t n) {
            const auto* b = static_cast<const std::byte*>(p);
            out.insert(out.end(), b, b + n);
        });
        return out;
    }

    void write(const std::filesystem::path& path) const {
        atomic_output_file out(path);
        emit([&](const void* p, std::size_t n) { out.write(p, n); });
        out.commit();
    }

private:
    struct tensor {
        std::string name;
        quant::qtype type;
        std::vector<std::uint64_t> ne;
        std::vector<std::byte> data;
        bool deferred = false;  // bytes come from write()'s fill callback
        std::uint64_t size = 0; // deferred: bytes the callback must write
        [[nodiscard]] std::uint64_t n_bytes() const noexcept { return deferred ? size : data.size(); }
    };
    /// The fill of files without deferred tensors.
    struct no_fill {
        template <typename Out>
        void operator()(std::size_t, Out&&) const {
            fail(errc::invalid_argument, "gguf_writer: tensors added with add_tensor_info need write(path, fill)");
        }
    };

    template <typename Sink, typename Fill = no_fill>
    void emit(Sink&& sink, Fill&& fill = Fill{}) const {
        std::uint64_t pos = 0;
        auto put = [&](const void* p, std::size_t n) {
            sink(p, n);
            pos += n;
        };
        auto u32 = [&](std::uint32_t v) { put(&v, 4); };
        auto u64 = [&](std::uint64_t v) { put(&v, 8); };
        auto count = [&](std::uint64_t v) {
            if (version_ == 1) {
                LLMT_CHECK_CODE(v <= UINT32_MAX, errc::invalid_argument, "GGUF v1 cannot store a count of {}", v);
                u32(static_cast<std::uint32_t>(v));
            } else {
                u64(v);
            }
        };
        auto str = [&](std::string_view s) {
            count(s.size());
            put(s.data(), s.size());
        };
        auto value = [&](auto&& self, const gguf_owned_value& v) -> void {
            if (v.type == gguf_type::string) {
                str(v.str);
            } else if (v.type == gguf_type::array) {
                u32(std::uint32_t(v.elem));
                count(v.count);
                if (v.elem == gguf_type::string) {
                    for (const auto& s : v.strings) str(s);
                } else if (v.elem == gguf_type::array) {
                    for (const auto& a : v.arrays) self(self, a);
                } else {
                    put(v.raw.data(), v.raw.size());
                }
            } else {
                put(v.scalar.data(), v.scalar.size());
            }
        };

        u32(0x46554747u);
        u32(version_);
        count(tensors_.size());
        count(kvs_.size());
        for (const auto& [k, v] : kvs_) {
            str(k);
            u32(std::uint32_t(v.type));
            value(value, v);
        }
        std::uint64_t offset = 0;
        auto align = [&](std::uint64_t x) { return (x + alignment_ - 1) / alignment_ * alignment_; };
        for (const auto& t : tensors_) {
            str(t.name);
            u32(static_cast<std::uint32_t>(t.ne.size()));
            for (auto d : t.ne) count(d);
            u32(std::uint32_t(t.type));
            u64(offset);
            offset = align(offset + t.n_bytes());
        }
        if (tensors_.empty()) return;
        static const std::byte zeros[256] = {};
        auto pad = [&] {
            std::uint64_t n = align(pos) - pos;
            while (n) {
                const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, sizeof zeros));
                put(zeros, k);
                n -= k;
            }
        };
        pad();
        std::size_t n_deferred = 0;
        for (const auto& t : tensors_) {
            if (t.deferred) {
                const std::uint64_t start = pos;
                fill(n_deferred++, put);
                LLMT_CHECK_CODE(pos - start == t.size, errc::invalid_argument,
                                "gguf_writer: tensor '{}' was given {} bytes, {} expected", t.name, pos - start, t.size);
            } else {
                put(t.data.data(), t.data.size());
            }
            pad();
        }
    }

    std::uint32_t version_;
    std::uint32_t alignment_ = 32;
    std::vector<std::pair<std::string, gguf_owned_value>> kvs_;
    std::vector<tensor> tensors_;
};

}  // namespace io
LLMT_END_NAMESPACE
