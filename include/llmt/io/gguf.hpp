// gguf: the GGUF reader (v1-v3) over a mapped file; every size from the file is checked before use
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/io/escape.hpp>
#include <llmt/io/gguf_types.hpp>
#include <llmt/io/mapped_file.hpp>
#include <llmt/quant/qtype.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace io {

namespace detail {
/// Capacity to reserve for a count read from a file: the count is already bounded by the bytes
/// left, but its records are far larger in memory than on disk, so growth past a small start is
/// left to the records actually parsed.
inline std::size_t reserve_hint(std::uint64_t count) noexcept {
    return static_cast<std::size_t>(std::min<std::uint64_t>(count, 4096));
}

/// Names (views into the file) to positions, kept sorted: O(log n) lookups, and no hash table
/// whose buckets a crafted file could flood with colliding names.
class name_index {
public:
    /// Indexes name_of(items[k]) -> k. Returns the position of the first item whose name an
    /// earlier item already had, if any.
    template <typename Items, typename NameOf>
    std::optional<std::size_t> build(const Items& items, NameOf name_of) {
        entries_.clear();
        entries_.reserve(items.size());
        for (std::size_t k = 0; k < items.size(); ++k) entries_.emplace_back(name_of(items[k]), k);
        std::sort(entries_.begin(), entries_.end());  // by name, then position
        std::optional<std::size_t> dup;
        for (std::size_t k = 1; k < entries_.size(); ++k)
            if (entries_[k].first == entries_[k - 1].first && (!dup || entries_[k].second < *dup)) dup = entries_[k].second;
        return dup;
    }
    [[nodiscard]] std::optional<std::size_t> find(std::string_view name) const {
        auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                                   [](const auto& e, std::string_view n) { return e.first < n; });
        if (it == entries_.end() || it->first != name) return std::nullopt;
        return it->second;
    }

private:
    std::vector<std::pair<std::string_view, std::size_t>> entries_;
};
}  // namespace detail

inline constexpr std::uint32_t gguf_magic = 0x46554747;  // "GGUF" little-endian
inline constexpr std::uint32_t gguf_default_alignment = 32;
inline constexpr std::uint32_t gguf_max_array_depth = 8;  // nesting of arrays of arrays

/// True for the values converters write for "no such token" in a tokenizer.ggml.*_token_id key:
/// -1, or the all-ones value of an unsigned type (llama2.c's converter writes uint32 0xFFFFFFFF).
inline bool is_unset_token_id(const gguf_value& v) noexcept {
    if (is_signed_int(v.type)) return v.i == -1;
    if (is_unsigned_int(v.type)) return v.u == (fixed_size(v.type) >= 8 ? ~std::uint64_t(0) : (std::uint64_t(1) << (8 * fixed_size(v.type))) - 1);
    return false;
}

/// A parsed GGUF file: metadata, tensor infos, and views of the tensor data.
class gguf_file {
public:
    /// Opens and parses a file (mmap, or read() when mmap is unavailable or refused).
    static gguf_file open(const std::filesystem::path& path, load_mode mode = load_mode::mmap_or_read) {
        return rethrow_as_error(fmt::format("cannot load '{}'", path.string()), [&] { return gguf_file(mapped_file::open(path, mode)); });
    }
    /// Parses bytes in memory (copied into the object).
    static gguf_file from_bytes(std::span<const std::byte> bytes, std::string name = "<memory>") {
        return gguf_file(mapped_file::from_bytes(std::vector<std::byte>(bytes.begin(), bytes.end()), std::move(name)));
    }

    explicit gguf_file(mapped_file file) : file_(std::move(file)) { parse(); }

    gguf_file(gguf_file&&) noexcept = default;
    gguf_file& operator=(gguf_file&&) noexcept = default;

    [[nodiscard]] std::uint32_t version() const noexcept { return version_; }
    [[nodiscard]] std::uint32_t alignment() const noexcept { return alignment_; }
    [[nodiscard]] std::uint64_t data_offset() const noexcept { return data_offset_; }
    [[nodiscard]] const std::string& path() const noexcept { return file_.path(); }
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return file_.bytes(); }
    [[nodiscard]] bool is_mapped() const noexcept { return file_.is_mapped(); }

    [[nodiscard]] const std::vector<gguf_kv>& metadata() const noexcept { return kvs_; }
    [[nodiscard]] const std::vector<gguf_tensor_info>& tensors() const noexcept { return tensors_; }

    [[nodiscard]] const gguf_value* find(std::string_view key) const {
        const auto k = kv_index_.find(key);
        return k ? &kvs_[*k].value : nullptr;
    }
    [[nodiscard]] bool contains(std::string_view key) const { return find(key) != nullptr; }

    /// The value of key as T, or nullopt if absent. A present value of the wrong type throws.
    template <typename T>
    [[nodiscard]] std::optional<T> get(std::string_view key) const {
        const gguf_value* v = find(key);
        if (!v) return std::nullopt;
        auto x = v->template as<T>();
        if (!x) fail(errc::format, "gguf '{}': key '{}' holds {} that does not convert to the expected type",
                     path(), key, describe(*v));
        return x;
    }
    template <typename T>
    [[nodiscard]] T get_or(std::string_view key, T fallback) const {
        auto x = get<T>(key);
        return x ? *x : fallback;
    }
    /// The value of key as T; a missing key throws errc::not_found naming it.
    template <typename T>
    [[nodiscard]] T require(std::string_view key) const {
        auto x = get<T>(key);
        if (!x) fail(errc::not_found, "gguf '{}': required key '{}' is missing", path(), key);
        return *x;
    }
    [[nodiscard]] std::optional<std::string_view> get_string(std::string_view key) const {
        return get<std::string_view>(key);
    }
    /// The array at key, or nullptr if absent; a present non-array throws.
    [[nodiscard]] const gguf_array* get_array(std::string_view key) const {
        const gguf_value* v = find(key);
        if (!v) return nullptr;
        if (v->type != gguf_type::array)
            fail(errc::format, "gguf '{}': key '{}' holds {}, expected an array", path(), key, name(v->type));
        return v->array.get();
    }

    [[nodiscard]] const gguf_tensor_info* find_tensor(std::string_view tensor_name) const {
        const auto k = tensor_index_.find(tensor_name);
        return k ? &tensors_[*k] : nullptr;
    }
    [[nodiscard]] const gguf_tensor_info& require_tensor(std::string_view tensor_name) const {
        const auto* t = find_tensor(tensor_name);
        if (!t) fail(errc::not_found, "gguf '{}': required tensor '{}' is missing", path(), tensor_name);
        return *t;
    }
    /// The bytes of a tensor (checked at parse time to lie inside the file).
    [[nodiscard]] std::span<const std::byte> tensor_data(const gguf_tensor_info& t) const noexcept {
        return {file_.data() + data_offset_ + t.offset, static_cast<std::size_t>(t.n_bytes)};
    }

    /// Bytes of the file (e.g. a tensor's), writable, when the file was read into memory
    /// (load_mode::read_only, from_bytes); nullptr when it is mapped.
    [[nodiscard]] std::byte* private_bytes(std::span<const std::byte> part) noexcept {
        std::byte* base = file_.private_data();
        return base ? base + (part.data() - file_.data()) : nullptr;
    }
    /// Gives the whole pages of a mapped file inside part back to the OS (read again if touched).
    void release_pages(std::span<const std::byte> part) noexcept { file_.release(part.data(), part.size()); }

    /// A short human description of a value, for messages ("uint32 7", "string 'llama'", "array of 32000 string").
    static std::string describe(const gguf_value& v) {
        switch (v.type) {
            case gguf_type::string: return fmt::format("string '{}'", escape(v.str, 64));
            case gguf_type::array:
                if (!v.array) return "array (empty value)";
                return fmt::format("array of {} {}", v.array->count, name(v.array->type));
            case gguf_type::boolean: return v.u ? "bool true" : "bool false";
            case gguf_type::float32: case gguf_type::float64: return fmt::format("{} {}", name(v.type), v.d);
            default:
                return is_signed_int(v.type) ? fmt::format("{} {}", name(v.type), v.i)
                                             : fmt::format("{} {}", name(v.type), v.u);
        }
    }

private:
    // ---- a bounds-checked cursor over the file ----
    struct cursor {
        const std::byte* base;
        std::uint64_t size;
        std::uint64_t pos = 0;
        const std::string* path;

        [[nodiscard]] std::uint64_t remaining() const noexcept { return size - pos; }

        void need(std::uint64_t n, std::string_view what) const {
            if (n > remaining())
                fail(errc::format, "gguf '{}': truncated: {} needs {} bytes at byte {} but the file has {} left",
                     *path, what, n, pos, remaining());
        }
        template <typename T>
        T read(std::string_view what) {
            need(sizeof(T), what);
            T v = detail::load_le<T>(base + pos);
            pos += sizeof(T);
            return v;
        }
        std::string_view read_string(bool v1, std::string_view what) {
            const std::uint64_t at = pos;
            const std::uint64_t n = v1 ? read<std::uint32_t>(what) : read<std::uint64_t>(what);
            if (n > remaining())
                fail(errc::format, "gguf '{}': {} at byte {} claims length {} but only {} bytes remain",
                     *path, what, at, n, remaining());
            std::string_view s(reinterpret_cast<const char*>(base + pos), static_cast<std::size_t>(n));
            pos += n;
            return s;
        }
    };

    /// A name from the file as it may appear in a message: escaped and at most 64 bytes.
    static std::string shown(std::string_view s) { return escape(s, 64); }

    [[noreturn]] void bad(std::uint64_t at, const std::string& msg) const {
        fail(errc::format, "gguf '{}': {} at byte {}", path(), msg, at);
    }

    void parse() {
        cursor c{file_.data(), file_.size(), 0, &file_.path()};
        const std::uint32_t magic = c.read<std::uint32_t>("the magic");
        if (magic != gguf_magic) bad(0, "wrong magic: not a GGUF file");
        version_ = c.read<std::uint32_t>("the version");
        if (version_ < 1 || version_ > 3) {
            // A big-endian file shows its version byte-swapped (3 reads as 0x03000000).
            const bool swapped = (version_ & 0xffffu) == 0 && (version_ >> 24) >= 1 && (version_ >> 24) <= 3;
            fail(errc::unsupported, "gguf '{}': unsupported version {} at byte 4 (llmt reads versions 1, 2 and 3{})",
                 path(), version_, swapped ? "; this looks like a big-endian file" : "");
        }
        const bool v1 = version_ == 1;
        const std::uint64_t n_tensors = v1 ? c.read<std::uint32_t>("the tensor count") : c.read<std::uint64_t>("the tensor count");
        const std::uint64_t n_kv = v1 ? c.read<std::uint32_t>("the metadata count") : c.read<std::uint64_t>("the metadata count");

        // Every record takes at least this many bytes, which bounds the counts by the file size.
        const std::uint64_t min_kv = (v1 ? 4 : 8) + 4 + 1;
        const std::uint64_t min_tensor = (v1 ? 4 : 8) + 4 + (v1 ? 4 : 8) + 4 + 8;
        if (n_kv > c.remaining() / min_kv) bad(v1 ? 12 : 16, fmt::format("metadata count {} cannot fit in the file", n_kv));
        kvs_.reserve(detail::reserve_hint(n_kv));
        for (std::uint64_t k = 0; k < n_kv; ++k) {
            gguf_kv kv;
            kv.offset = c.pos;
            kv.key = c.read_string(v1, "a metadata key");
            const std::uint64_t type_at = c.pos;
            const std::uint32_t t = c.read<std::uint32_t>("a metadata value type");
            if (t >= gguf_type_count)
                bad(type_at, fmt::format("unknown metadata value type {} for key '{}'", t, shown(kv.key)));
            kv.value = read_value(c, gguf_type(t), v1, 0, kv.key);
            kvs_.push_back(std::move(kv));
        }
        if (const auto dup = kv_index_.build(kvs_, [](const gguf_kv& kv) { return kv.key; }))
            bad(kvs_[*dup].offset, fmt::format("duplicate metadata key '{}'", shown(kvs_[*dup].key)));

        alignment_ = gguf_default_alignment;
        if (const gguf_value* a = find("general.alignment")) {
            if (a->type != gguf_type::uint32)
                bad(kvs_[*kv_index_.find("general.alignment")].offset,
                    fmt::format("general.alignment must be uint32, found {}", name(a->type)));
            if (a->u == 0 || (a->u & (a->u - 1)) != 0)
                bad(kvs_[*kv_index_.find("general.alignment")].offset,
                    fmt::format("general.alignment {} is not a power of two", a->u));
            alignment_ = static_cast<std::uint32_t>(a->u);
        }

        if (n_tensors > c.remaining() / min_tensor)
            bad(8, fmt::format("tensor count {} cannot fit in the file", n_tensors));
        tensors_.reserve(detail::reserve_hint(n_tensors));
        for (std::uint64_t k = 0; k < n_tensors; ++k) tensors_.push_back(read_tensor_info(c, v1));
        if (const auto dup = tensor_index_.build(tensors_, [](const gguf_tensor_info& t) { return t.name; }))
            bad(tensors_[*dup].info_offset, fmt::format("duplicate tensor name '{}'", shown(tensors_[*dup].name)));

        // The data section starts at the next multiple of the alignment.
        const std::uint64_t end_of_infos = c.pos;
        data_offset_ = (end_of_infos + alignment_ - 1) / alignment_ * alignment_;
        if (tensors_.empty()) {
            data_offset_ = std::min<std::uint64_t>(data_offset_, file_.size());
            return;
        }
        if (data_offset_ > file_.size())
            bad(end_of_infos, "truncated: the file ends before the tensor data section");
        const std::uint64_t data_size = file_.size() - data_offset_;

        for (const auto& t : tensors_) {
            if (t.offset % alignment_ != 0)
                bad(t.info_offset, fmt::format("tensor '{}' offset {} is not a multiple of the alignment {}",
                                               shown(t.name), t.offset, alignment_));
            if (t.offset > data_size || t.n_bytes > data_size - t.offset)
                bad(t.info_offset, fmt::format("tensor '{}' data [{}, +{}) lies outside the data section of {} bytes "
                                               "(file truncated or offset out of range)",
                                               shown(t.name), t.offset, t.n_bytes, data_size));
        }
        std::vector<std::size_t> order(tensors_.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return tensors_[a].offset < tensors_[b].offset; });
        for (std::size_t k = 1; k < order.size(); ++k) {
            const auto& prev = tensors_[order[k - 1]];
            const auto& cur = tensors_[order[k]];
            if (prev.n_bytes > 0 && cur.offset < prev.offset + prev.n_bytes)
                bad(cur.info_offset, fmt::format("tensor '{}' data overlaps tensor '{}'", shown(cur.name), shown(prev.name)));
        }
    }

    gguf_value read_value(cursor& c, gguf_type t, bool v1, std::uint32_t depth, std::string_view key) {
        gguf_value v;
        v.type = t;
        if (t == gguf_type::string) {
            v.str = c.read_string(v1, "a string value");
            return v;
        }
        if (t != gguf_type::array) {
            const std::uint64_t at = c.pos;
            c.need(fixed_size(t), "a metadata value");
            v = detail::decode_scalar(t, c.base + c.pos);
            c.pos += fixed_size(t);
            if (t == gguf_type::boolean && v.u > 1)
                bad(at, fmt::format("bool value {} for key '{}' is neither 0 nor 1", v.u, shown(key)));
            return v;
        }
        if (depth >= gguf_max_array_depth)
            bad(c.pos, fmt::format("arrays nested deeper than {} levels in key '{}'", gguf_max_array_depth, shown(key)));
        auto arr = std::make_shared<gguf_array>();
        const std::uint64_t type_at = c.pos;
        const std::uint32_t et = c.read<std::uint32_t>("an array element type");
        if (et >= gguf_type_count)
            bad(type_at, fmt::format("unknown array element type {} in key '{}'", et, shown(key)));
        arr->type = gguf_type(et);
        const std::uint64_t count_at = c.pos;
        arr->count = v1 ? c.read<std::uint32_t>("an array length") : c.read<std::uint64_t>("an array length");
        const std::size_t esz = fixed_size(arr->type);
        const std::uint64_t min_elem = esz ? esz : arr->type == gguf_type::string ? (v1 ? 4 : 8) : 4 + (v1 ? 4 : 8);
        if (arr->count > c.remaining() / min_elem)
            bad(count_at, fmt::format("array length {} of key '{}' cannot fit in the {} bytes left", arr->count, shown(key), c.remaining()));
        if (esz) {
            const std::uint64_t bytes = arr->count * esz;
            arr->storage.resize(static_cast<std::size_t>((bytes + 7) / 8));
            if (bytes) std::memcpy(arr->storage.data(), c.base + c.pos, static_cast<std::size_t>(bytes));
            if (arr->type == gguf_type::boolean)
                for (std::uint64_t k = 0; k < arr->count; ++k)
                    if (std::to_integer<unsigned>(c.base[c.pos + k]) > 1)
                        bad(c.pos + k, fmt::format("bool element {} of key '{}' is neither 0 nor 1", k, shown(key)));
            c.pos += bytes;
        } else if (arr->type == gguf_type::string) {
            arr->strings.reserve(detail::reserve_hint(arr->count));
            for (std::uint64_t k = 0; k < arr->count; ++k) arr->strings.push_back(c.read_string(v1, "a string array element"));
        } else {
            arr->arrays.reserve(detail::reserve_hint(arr->count));
            for (std::uint64_t k = 0; k < arr->count; ++k)
                arr->arrays.push_back(read_value(c, gguf_type::array, v1, depth + 1, key));
        }
        v.array = std::move(arr);
        return v;
    }

    gguf_tensor_info read_tensor_info(cursor& c, bool v1) {
        gguf_tensor_info t;
        t.info_offset = c.pos;
        t.name = c.read_string(v1, "a tensor name");
        const std::uint64_t dims_at = c.pos;
        t.n_dims = c.read<std::uint32_t>("a tensor's dimension count");
        if (t.n_dims == 0 || t.n_dims > gguf_max_dims)
            bad(dims_at, fmt::format("tensor '{}' has {} dimensions (1 to {} allowed)", shown(t.name), t.n_dims, gguf_max_dims));
        std::uint64_t n = 1;
        for (std::uint32_t d = 0; d < t.n_dims; ++d) {
            const std::uint64_t at = c.pos;
            t.ne[d] = v1 ? c.read<std::uint32_t>("a tensor dimension") : c.read<std::uint64_t>("a tensor dimension");
            if (t.ne[d] == 0) bad(at, fmt::format("tensor '{}' dimension {} is zero", shown(t.name), d));
            if (t.ne[d] > static_cast<std::uint64_t>(INT64_MAX) || n > static_cast<std::uint64_t>(INT64_MAX) / t.ne[d])
                bad(at, fmt::format("tensor '{}' element count overflows", shown(t.name)));
            n *= t.ne[d];
        }
        t.n_elements = n;
        const std::uint64_t type_at = c.pos;
        const std::uint32_t type = c.read<std::uint32_t>("a tensor type");
        if (!quant::is_known(type)) bad(type_at, fmt::format("tensor '{}' has unknown type id {}", shown(t.name), type));
        // Removed ids with a known block size (q4_0_4_4, ...) are accepted so the file can be
        // listed; a model refuses them later because no kernel is registered for them.
        if (!quant::is_sized(type))
            fail(errc::unsupported, "gguf '{}': tensor '{}' has type {} ({}), which ggml removed before GGUF existed, at byte {}",
                 path(), shown(t.name), quant::qtype_table[type].name, type, type_at);
        t.type = quant::qtype(type);
        const auto bs = quant::block_size(t.type);
        if (t.ne[0] % bs != 0)
            bad(dims_at, fmt::format("tensor '{}' row length {} is not a multiple of the {} block size {}",
                                     shown(t.name), t.ne[0], quant::name(t.type), bs));
        const std::uint64_t blocks = n / bs;
        const std::uint64_t ts = quant::type_size(t.type);
        if (blocks > static_cast<std::uint64_t>(INT64_MAX) / ts) bad(dims_at, fmt::format("tensor '{}' byte size overflows", shown(t.name)));
        t.n_bytes = blocks * ts;
        t.offset = c.read<std::uint64_t>("a tensor offset");
        return t;
    }

    mapped_file file_;
    std::uint32_t version_ = 0;
    std::uint32_t alignment_ = gguf_default_alignment;
    std::uint64_t data_offset_ = 0;
    std::vector<gguf_kv> kvs_;
    detail::name_index kv_index_;
    std::vector<gguf_tensor_info> tensors_;
    detail::name_index tensor_index_;
};

}  // namespace io
LLMT_END_NAMESPACE
