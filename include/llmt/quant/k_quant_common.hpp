// k_quant_common: super-block size, rounding, scale searches and 6-bit scale packing shared by the K-quants
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

/// Values per K-quant super-block (ggml's QK_K).
inline constexpr int qk_k = 256;

namespace detail {

// Groups whose largest magnitude is below this are treated as all zero (ggml's GROUP_MAX_EPS).
inline constexpr float group_max_eps = 1e-15f;

LLMT_STRICT_FP_BEGIN

/// Round to nearest, ties to even, valid for |v| < 2^22: adding 1.5 * 2^23 leaves the integer in
/// the low mantissa bits. Every K-quant reference rounds this way, so bytes depend on it.
inline int nearest_int(float v) noexcept {
    const float shifted = v + 12582912.0f;
    const auto bits = std::bit_cast<std::int32_t>(shifted);
    return (bits & 0x007fffff) - 0x00400000;
}

inline int clamp_int(int v, int lo, int hi) noexcept { return std::max(lo, std::min(hi, v)); }

/// Symmetric scale for n values with levels -nmax..nmax-1, weights x^2: tries 19 inverse scales
/// around -nmax/max and keeps the one maximising (sum w x l)^2 / sum w l^2. Writes L = l + nmax.
inline float search_symmetric_scale(int n, int nmax, const float* x, std::int8_t* L) noexcept {
    float amax = 0, max = 0;
    for (int i = 0; i < n; ++i) {
        const float a = std::fabs(x[i]);
        if (a > amax) { amax = a; max = x[i]; }
    }
    if (amax < group_max_eps) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.0f;
    }
    auto level = [nmax](float v) { return clamp_int(nearest_int(v), -nmax, nmax - 1); };
    float iscale = -float(nmax) / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = level(iscale * x[i]);
        L[i] = std::int8_t(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * float(l);
        suml2 += w * float(l) * float(l);
    }
    float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int step = -9; step <= 9; ++step) {
        if (step == 0) continue;
        iscale = -(float(nmax) + 0.1f * float(step)) / max;
        float slx = 0, sl2 = 0;
        for (int i = 0; i < n; ++i) {
            const int l = level(iscale * x[i]);
            const float w = x[i] * x[i];
            slx += w * x[i] * float(l);
            sl2 += w * float(l) * float(l);
        }
        if (sl2 > 0 && slx * slx > best * sl2) {
            for (int i = 0; i < n; ++i) L[i] = std::int8_t(level(iscale * x[i]) + nmax);
            scale = slx / sl2;
            best = scale * slx;
        }
    }
    return scale;
}

/// Symmetric scale refined level by level (weights x^2, up to 5 sweeps): starts from -nmax/max and
/// moves single levels while that improves (sum w x l)^2 / sum w l^2. Writes L = l + nmax.
inline float refine_symmetric_scale(int n, int nmax, const float* x, std::int8_t* L) noexcept {
    float amax = 0, max = 0;
    for (int i = 0; i < n; ++i) {
        const float a = std::fabs(x[i]);
        if (a > amax) { amax = a; max = x[i]; }
    }
    if (amax < group_max_eps) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.0f;
    }
    const float iscale = -float(nmax) / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = std::int8_t(l);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * float(l);
        suml2 += w * float(l) * float(l);
    }
    for (int sweep = 0; sweep < 5; ++sweep) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            const float w = x[i] * x[i];
            const float cur = float(L[i]);
            float slx = sumlx - w * x[i] * cur;
            if (!(slx > 0)) continue;
            float sl2 = suml2 - w * cur * cur;
            const int nl = clamp_int(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (nl == L[i]) continue;
            slx += w * x[i] * float(nl);
            sl2 += w * float(nl) * float(nl);
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i] = std::int8_t(nl);
                sumlx = slx;
                suml2 = sl2;
                ++changed;
            }
        }
        if (changed == 0) break;
    }
    for (int i = 0; i < n; ++i) L[i] = std::int8_t(L[i] + nmax);
    return suml2 > 0 ? sumlx / suml2 : 0.0f;
}

/// Affine fit x ~ scale * l - the_min with levels 0..nmax and weights w: starts from the min/max
/// range, then tries nstep+1 inverse scales (rmin + rdelta*k + nmax) / range, solving weighted least
/// squares for scale and min at each, and keeps the lowest weighted error (absolute when use_mad,
/// squared otherwise). Returns the scale; *the_min receives the (non-negative) offset.
inline float search_affine_scale(int n, int nmax, const float* x, const float* w, std::uint8_t* L,
                                 float* the_min, std::uint8_t* Laux, float rmin, float rdelta, int nstep,
                                 bool use_mad) noexcept {
    float min = x[0], max = x[0];
    float sum_w = w[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.0f;
    }
    auto error_of = [use_mad](float d) { return use_mad ? std::fabs(d) : d * d; };
    float iscale = float(nmax) / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; ++i) {
        L[i] = std::uint8_t(clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax));
        const float diff = scale * float(L[i]) + min - x[i];
        best_error += w[i] * error_of(diff);
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int step = 0; step <= nstep; ++step) {
        iscale = (rmin + rdelta * float(step) + float(nmax)) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            const int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = std::uint8_t(l);
            const float fl = float(l);
            sum_l += w[i] * fl;
            sum_l2 += w[i] * fl * fl;
            sum_xl += w[i] * fl * x[i];
        }
        const float det = sum_w * sum_l2 - sum_l * sum_l;
        if (!(det > 0)) continue;
        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
        float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
        if (this_min > 0) {
            this_min = 0;
            this_scale = sum_xl / sum_l2;
        }
        float err = 0;
        for (int i = 0; i < n; ++i) {
            const float diff = this_scale * float(Laux[i]) + this_min - x[i];
            err += w[i] * error_of(diff);
        }
        if (err < best_error) {
            for (int i = 0; i < n; ++i) L[i] = Laux[i];
            best_error = err;
            scale = this_scale;
            min = this_min;
        }
    }
    *the_min = -min;
    return scale;
}

LLMT_STRICT_FP_END

/// Q4_K/Q5_K keep 8 six-bit scales and 8 six-bit mins in 12 bytes: bytes 0-3 hold scales 0-3 and
/// bytes 4-7 mins 0-3 (low 6 bits); bytes 8-11 hold the low nibbles of scale/min 4-7 and the top
/// two bits of those go into bits 6-7 of bytes 0-3 (scales) and 4-7 (mins).
inline void unpack_scale_min6(int j, const std::uint8_t* q, std::uint8_t& sc, std::uint8_t& m) noexcept {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = std::uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = std::uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}
/// Inverse of unpack_scale_min6; call for j = 0..7 in order (4..7 add bits to bytes 0..7).
inline void pack_scale_min6(int j, std::uint8_t ls, std::uint8_t lm, std::uint8_t* q) noexcept {
    if (j < 4) {
        q[j] = ls;
        q[j + 4] = lm;
    } else {
        q[j + 4] = std::uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
        q[j - 4] = std::uint8_t(q[j - 4] | ((ls >> 4) << 6));
        q[j] = std::uint8_t(q[j] | ((lm >> 4) << 6));
    }
}

LLMT_STRICT_FP_BEGIN
/// The scale/min part of ggml's Q4_K and Q5_K reference quantizers for one super-block: per 32
/// values an affine fit weighted by rms + |x| (levels 0..nmax, nstep+1 trial scales from rmin by
/// 0.1), the 8 scales and 8 mins to 6 bits against their maxima (d, dmin), then every value
/// re-rounded with the stored scale and min into L (sub-blocks whose stored scale is 0 keep the
/// levels of the fit).
inline void quantize_scale_min_superblock(const float* x, int nmax, float rmin, int nstep, std::uint8_t* L,
                                          fp16_t& d_out, fp16_t& dmin_out, std::uint8_t* scales12) noexcept {
    std::uint8_t Laux[32];
    float w[32], scales[8], mins[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
        const float* xs = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
        const float av_x = std::sqrt(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) w[l] = av_x + std::fabs(xs[l]);
        scales[j] = search_affine_scale(32, nmax, xs, w, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    for (int j = 0; j < 8; ++j) {
        // the rounding result is narrowed to a byte before the cap, as in the reference
        const auto ls = static_cast<std::uint8_t>(nearest_int(inv_scale * scales[j]));
        const auto lm = static_cast<std::uint8_t>(nearest_int(inv_min * mins[j]));
        pack_scale_min6(j, ls < 63 ? ls : 63, lm < 63 ? lm : 63, scales12);
    }
    d_out = to_fp16(max_scale / 63.0f);
    dmin_out = to_fp16(max_min / 63.0f);
    for (int j = 0; j < 8; ++j) {
        std::uint8_t sc, m;
        unpack_scale_min6(j, scales12, sc, m);
        const float d = to_f32(d_out) * float(sc);
        if (d == 0) continue;
        const float dm = to_f32(dmin_out) * float(m);
        for (int i = 0; i < 32; ++i)
            L[32 * j + i] = std::uint8_t(clamp_int(nearest_int((x[32 * j + i] + dm) / d), 0, nmax));
    }
}
LLMT_STRICT_FP_END

}  // namespace detail
}  // namespace quant
LLMT_END_NAMESPACE
