// Conversions (f32 <-> bf16 / f16, u8 quantization) and the sigmoid: the ref against independent
// value arithmetic in double (exhaustive over all 16-bit patterns where possible), then every
// registered variant the CPU can run against the ref, bit for bit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/ref/ref_kernels.h"

using namespace dlrm::kernels;

namespace {

// 63 / 64 / 65 and the DLRM widths 479 and 3456: quantize_u8 works in steps of 64 values.
const int64_t sizes[] = {0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 40, 63, 64, 65, 85, 128, 163, 256, 479, 1000, 3456};

template <class K>
std::vector<const K*> runnable(family fam) {
    std::vector<const K*> out;
    for (const variant& v : registry()) {
        if (v.fam != fam) continue;
        if (!v.available(cpu())) {
            MESSAGE("skipped " << std::string(v.name) << ": this CPU cannot run it");
            continue;
        }
        out.push_back(static_cast<const K*>(v.kernel));
    }
    return out;
}

uint32_t bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
float from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// Independent decoders: the value a 16-bit pattern stands for, computed arithmetically.
double half_value(uint16_t h) {
    const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
    const double s = (h & 0x8000) ? -1.0 : 1.0;
    if (e == 31) return m ? NAN : s * INFINITY;
    return s * (e == 0 ? std::ldexp(double(m), -24) : std::ldexp(1.0 + m / 1024.0, e - 15));
}
double bf16_value(uint16_t h) {
    const int e = (h >> 7) & 0xFF, m = h & 0x7F;
    const double s = (h & 0x8000) ? -1.0 : 1.0;
    if (e == 255) return m ? NAN : s * INFINITY;
    return s * (e == 0 ? std::ldexp(double(m), -133) : std::ldexp(1.0 + m / 128.0, e - 127));
}

// Nearest representable value, ties to even: of all finite 16-bit patterns of the format, the one
// closest to x (the patterns are ordered, so a binary search over magnitudes finds the neighbours).
template <double (*value)(uint16_t)>
uint16_t nearest(float x, uint16_t max_finite, double overflow_threshold) {
    const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    const double a = std::fabs(double(x));
    if (std::isinf(x) || a >= overflow_threshold) return uint16_t(sign | (max_finite + 1));  // ±inf
    uint16_t lo = 0, hi = max_finite;  // value(lo) ≤ a < value(hi) after the search (a < max+ulp/2)
    if (a >= value(hi)) return uint16_t(sign | hi);
    while (hi - lo > 1) {
        const uint16_t mid = uint16_t((lo + hi) / 2);
        (value(mid) <= a ? lo : hi) = mid;
    }
    const double dl = a - value(lo), dh = value(hi) - a;
    const uint16_t pick = dl < dh ? lo : dh < dl ? hi : ((lo & 1) ? hi : lo);
    return uint16_t(sign | pick);
}
uint16_t nearest_half(float x) { return nearest<half_value>(x, 0x7BFF, 65520.0); }
uint16_t nearest_bf16(float x) {
    // Overflow to inf from halfway between the largest bf16 (0x7F7F) and 2^128.
    return nearest<bf16_value>(x, 0x7F7F, (bf16_value(0x7F7F) + std::ldexp(1.0, 128)) / 2);
}

// Floats that probe every rounding case: all 16-bit patterns, the midpoints between neighbours,
// one float ulp either side of them, specials, and random bit patterns.
std::vector<float> probe_floats(bool half, std::mt19937& rng) {
    std::vector<float> v;
    auto value = [&](uint16_t h) { return half ? half_value(h) : bf16_value(h); };
    const uint16_t max_finite = half ? 0x7BFF : 0x7F7F;
    for (uint32_t h = 0; h <= max_finite; ++h) {
        const double a = value(uint16_t(h)), b = value(uint16_t(h + 1));
        const float mid = float((a + b) / 2);  // exact for both formats (≤ 12 significant bits)
        for (float f : {float(a), mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY)}) {
            v.push_back(f);
            v.push_back(-f);
        }
    }
    for (float f : {INFINITY, -INFINITY, 65504.0f, 65519.99f, 65520.0f, 1e30f, FLT_MAX, FLT_MIN, FLT_TRUE_MIN,
                    std::ldexp(1.0f, -25), std::nextafter(std::ldexp(1.0f, -25), 1.0f), std::ldexp(1.0f, -26)})
        v.push_back(f), v.push_back(-f);
    std::uniform_int_distribution<uint32_t> any;
    for (int i = 0; i < 200000; ++i) {
        const float f = from_bits(any(rng));
        if (!std::isnan(f)) v.push_back(f);
    }
    return v;
}

bool is_nan16(uint16_t h, bool half) { return half ? (h & 0x7C00) == 0x7C00 && (h & 0x3FF) : (h & 0x7F80) == 0x7F80 && (h & 0x7F); }

}  // namespace

TEST_CASE("f16 and bf16 to f32: ref is exact on every pattern") {
    std::vector<uint16_t> all(65536);
    for (uint32_t i = 0; i < 65536; ++i) all[i] = uint16_t(i);
    std::vector<float> h(65536), b(65536);
    convert__ref.f16_to_f32(65536, all.data(), h.data());
    convert__ref.bf16_to_f32(65536, all.data(), b.data());
    for (uint32_t i = 0; i < 65536; ++i) {
        INFO("pattern 0x", std::to_string(i));
        const double hv = half_value(uint16_t(i)), bv = bf16_value(uint16_t(i));
        if (std::isnan(hv)) {
            REQUIRE(std::isnan(h[i]));
            CHECK(bits(h[i]) == ((i & 0x8000u) << 16 | 0x7F800000u | (i & 0x3FFu) << 13));  // payload kept
        } else {
            REQUIRE(double(h[i]) == hv);
            REQUIRE(std::signbit(h[i]) == bool(i & 0x8000));
        }
        if (std::isnan(bv)) REQUIRE(std::isnan(b[i]));
        else REQUIRE(double(b[i]) == bv);
        REQUIRE(bits(b[i]) == i << 16);
    }
}

TEST_CASE("f32 to f16 and bf16: ref rounds to nearest even, NaN stays NaN") {
    const unsigned seed = 16;
    std::mt19937 rng(seed);
    for (bool half : {true, false}) {
        const std::vector<float> x = probe_floats(half, rng);
        std::vector<uint16_t> got(x.size());
        (half ? convert__ref.f32_to_f16 : convert__ref.f32_to_bf16)(int64_t(x.size()), x.data(), got.data());
        int bad = 0;
        for (size_t i = 0; i < x.size() && bad < 10; ++i) {
            const uint16_t want = half ? nearest_half(x[i]) : nearest_bf16(x[i]);
            if (got[i] != want) {
                ++bad;
                CHECK_MESSAGE(false, std::string(half ? "f16" : "bf16"), " of ", x[i], " (bits 0x", std::to_string(bits(x[i])), "): got ",
                              got[i], ", expected ", want, " seed=", seed);
            }
        }
#if defined(__x86_64__) && defined(__FLT16_MAX__)
        // Where the compiler has a half type, its (libgcc, round-to-nearest) conversion must agree too.
        if (half) {
            for (size_t i = 0; i < x.size(); ++i) {
                const _Float16 c = static_cast<_Float16>(x[i]);
                uint16_t cb;
                std::memcpy(&cb, &c, 2);
                if (cb != got[i]) { CHECK_MESSAGE(false, "_Float16 disagrees on ", x[i]); break; }
            }
        }
#endif
        // NaNs of every payload, quiet and signalling, stay NaN and keep their sign.
        std::vector<float> nans;
        for (uint32_t m : {1u, 2u, 0x1FFFu, 0x2000u, 0x3FFFFFu, 0x400000u, 0x7FFFFFu, 0x12345u})
            for (uint32_t s : {0u, 0x80000000u}) nans.push_back(from_bits(s | 0x7F800000u | m));
        std::vector<uint16_t> nn(nans.size());
        (half ? convert__ref.f32_to_f16 : convert__ref.f32_to_bf16)(int64_t(nans.size()), nans.data(), nn.data());
        for (size_t i = 0; i < nans.size(); ++i) {
            CHECK(is_nan16(nn[i], half));
            CHECK(bool(nn[i] & 0x8000) == std::signbit(nans[i]));
        }
    }
}

TEST_CASE("quantize_u8 ref is clamp(nearbyint(x · (1/scale)) + zp, 0, 255)") {
    std::mt19937 rng(8);
    std::uniform_real_distribution<float> real(-40.0f, 40.0f);
    std::vector<float> x;
    for (int i = 0; i < 20000; ++i) x.push_back(real(rng));
    for (float f : {0.0f, -0.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 1e30f, -1e30f, INFINITY, -INFINITY}) x.push_back(f);
    for (auto [scale, zp] : std::vector<std::pair<float, int32_t>>{{0.25f, 128}, {0.1f, 0}, {0.37f, 255}, {1.0f, 17}}) {
        std::vector<uint8_t> got(x.size());
        convert__ref.quantize_u8(int64_t(x.size()), x.data(), scale, zp, got.data());
        for (size_t i = 0; i < x.size(); ++i) {
            // The product by the fp32 reciprocal, rounded once to float (an exact double product
            // rounded to float); nearbyint rounds half to even.
            const double inv = double(1.0f / scale);
            const double q = std::nearbyint(double(float(double(x[i]) * inv))) + zp;
            const double want = q < 0 ? 0 : q > 255 ? 255 : q;
            REQUIRE_MESSAGE(double(got[i]) == want, "x=", x[i], " scale=", scale, " zp=", zp);
        }
    }
}

TEST_CASE("convert variants match the ref bit for bit") {
    const unsigned seed = 77;
    std::mt19937 rng(seed);
    const std::vector<float> probe_h = probe_floats(true, rng), probe_b = probe_floats(false, rng);
    std::vector<uint16_t> all16(65536);
    for (uint32_t i = 0; i < 65536; ++i) all16[i] = uint16_t(i);
    std::uniform_real_distribution<float> real(-300.0f, 300.0f);
    for (const convert_kernel* k : runnable<convert_kernel>(family::convert)) {
        const std::string name = k->name;
        // Whole probe sets (every rounding case), then the size sweep with misaligned pointers.
        auto narrow = [&](f32_to_bf16_fn fn, f32_to_bf16_fn ref, const std::vector<float>& x, int64_t n, size_t mis,
                          bool half, const char* what) {
            std::vector<float> src(size_t(n) + 1);
            std::copy_n(x.begin(), n, src.begin() + std::ptrdiff_t(mis));
            std::vector<uint16_t> got(size_t(n) + 18, 0xA5A5), want(got.size(), 0xA5A5);
            fn(n, src.data() + mis, got.data() + 1);
            ref(n, src.data() + mis, want.data() + 1);
            int bad = 0;
            for (size_t i = 0; i < got.size() && bad < 5; ++i) {
                const bool ok = got[i] == want[i] || (is_nan16(got[i], half) && is_nan16(want[i], half));
                if (!ok) { ++bad; CHECK_MESSAGE(false, name, " ", std::string(what), " n=", n, " i=", i, ": ", got[i], " vs ref ", want[i]); }
            }
        };
        auto widen = [&](bf16_to_f32_fn fn, bf16_to_f32_fn ref, int64_t n, size_t mis, const char* what) {
            std::vector<uint16_t> src(size_t(n) + 1);
            std::copy_n(all16.begin(), n, src.begin() + std::ptrdiff_t(mis));
            std::vector<float> got(size_t(n) + 18, from_bits(0x7FA5A5A5u)), want = got;
            fn(n, src.data() + mis, got.data() + 1);
            ref(n, src.data() + mis, want.data() + 1);
            int bad = 0;
            for (size_t i = 0; i < got.size() && bad < 5; ++i) {
                const bool ok = bits(got[i]) == bits(want[i]) || (std::isnan(got[i]) && std::isnan(want[i]) && i > 0 && i <= size_t(n));
                if (!ok) { ++bad; CHECK_MESSAGE(false, name, " ", std::string(what), " n=", n, " i=", i, ": ", got[i], " vs ref ", want[i]); }
            }
        };
        narrow(k->f32_to_f16, convert__ref.f32_to_f16, probe_h, int64_t(probe_h.size()), 0, true, "f32_to_f16");
        narrow(k->f32_to_bf16, convert__ref.f32_to_bf16, probe_b, int64_t(probe_b.size()), 0, false, "f32_to_bf16");
        widen(k->f16_to_f32, convert__ref.f16_to_f32, 65536, 0, "f16_to_f32");
        widen(k->bf16_to_f32, convert__ref.bf16_to_f32, 65536, 0, "bf16_to_f32");
        for (int64_t n : sizes) {
            std::vector<float> x(static_cast<size_t>(n));
            for (auto& f : x) f = real(rng);
            narrow(k->f32_to_f16, convert__ref.f32_to_f16, x, n, 1, true, "f32_to_f16");
            narrow(k->f32_to_bf16, convert__ref.f32_to_bf16, x, n, 1, false, "f32_to_bf16");
            widen(k->f16_to_f32, convert__ref.f16_to_f32, n, 1, "f16_to_f32");
            widen(k->bf16_to_f32, convert__ref.bf16_to_f32, n, 1, "bf16_to_f32");
            for (auto [scale, zp] : std::vector<std::pair<float, int32_t>>{{0.5f, 128}, {2.0f, 3}, {0.37f, 100}, {0.0123f, 7}}) {
                std::vector<float> src(size_t(n) + 1);
                std::copy_n(x.begin(), n, src.begin() + 1);
                // NaN, infinities, signed zeros, ties and huge values scattered over the blocks and the tail
                const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 0.5f, 1.5f, -2.5f, 1e30f, -1e30f};
                for (int64_t i = 3, s = 0; i < n; i += 29, ++s) src[size_t(i) + 1] = special[s % 10] * (s % 10 >= 5 ? scale : 1.0f);
                std::vector<uint8_t> got(size_t(n) + 18, 0xA5), want = got;
                k->quantize_u8(n, src.data() + 1, scale, zp, got.data() + 1);
                convert__ref.quantize_u8(n, src.data() + 1, scale, zp, want.data() + 1);
                for (size_t i = 0; i < got.size(); ++i) {
                    // Every variant multiplies by the same fp32 reciprocal: the same bits, any scale.
                    const bool ok = got[i] == want[i];
                    if (!ok) { CHECK_MESSAGE(false, name, " quantize_u8 n=", n, " i=", i, ": ", int(got[i]), " vs ref ", int(want[i]), " seed=", seed); break; }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sigmoid: accurate to 2 ulp (api.h). Checked against long double; below FLT_MIN the bound is
// absolute (FLT_MIN), since a kernel may flush subnormal results (probabilities under 1e-38).

namespace {

double sigmoid_exact(float x) { return double(1.0L / (1.0L + std::exp(-(long double)x))); }

// |got − exact| in units of the float ulp at the exact value.
bool within_ulps(float got, double exact, double ulps) {
    if (std::isnan(got)) return false;
    if (exact < double(FLT_MIN)) return std::fabs(double(got) - exact) <= double(FLT_MIN);
    int e;
    std::frexp(exact, &e);
    const double ulp = std::ldexp(1.0, e - 24);
    return std::fabs(double(got) - exact) <= ulps * ulp;
}

std::vector<float> sigmoid_inputs() {
    std::vector<float> x;
    for (int i = -20000; i <= 20000; ++i) x.push_back(float(i) / 200.0f);  // [−100, 100]
    for (float f : {0.0f, -0.0f, 1e-30f, -1e-30f, FLT_TRUE_MIN, 88.7f, 89.0f, -87.3f, -88.8f, -103.9f, -104.0f,
                    -200.0f, 200.0f, FLT_MAX, -FLT_MAX, INFINITY, -INFINITY})
        x.push_back(f);
    return x;
}

}  // namespace

TEST_CASE("sigmoid ref is within 1 ulp of long double") {
    const std::vector<float> x = sigmoid_inputs();
    std::vector<float> y(x.size());
    sigmoid_f32__ref.run(int64_t(x.size()), x.data(), y.data());
    for (size_t i = 0; i < x.size(); ++i) {
        INFO("x=", x[i]);
        REQUIRE(within_ulps(y[i], sigmoid_exact(x[i]), 1.0));
    }
    const float inf_in[] = {INFINITY, -INFINITY};
    float inf_out[2];
    sigmoid_f32__ref.run(2, inf_in, inf_out);
    CHECK(inf_out[0] == 1.0f);
    CHECK(inf_out[1] == 0.0f);
}

TEST_CASE("sigmoid variants are within 2 ulp, in place too") {
    const std::vector<float> x = sigmoid_inputs();
    for (const sigmoid_kernel* k : runnable<sigmoid_kernel>(family::sigmoid)) {
        const std::string name = k->name;
        for (int64_t n : sizes) {
            const int64_t m = std::min<int64_t>(n, int64_t(x.size()));
            for (size_t off : {size_t(0), size_t(7919)}) {  // two windows of the input sweep
                std::vector<float> src(size_t(m) + 1), dst(size_t(m) + 18, from_bits(0x7FA5A5A5u));
                for (int64_t i = 0; i < m; ++i) src[size_t(i) + 1] = x[(off + size_t(i) * 97) % x.size()];
                k->run(m, src.data() + 1, dst.data() + 1);
                std::vector<float> inplace = src;
                k->run(m, inplace.data() + 1, inplace.data() + 1);
                for (int64_t i = 0; i < m; ++i) {
                    const float got = dst[size_t(i) + 1];
                    if (!within_ulps(got, sigmoid_exact(src[size_t(i) + 1]), 2.0) || bits(got) != bits(inplace[size_t(i) + 1])) {
                        CHECK_MESSAGE(false, name, " n=", m, " x=", src[size_t(i) + 1], ": ", got, " (in place ",
                                      inplace[size_t(i) + 1], ")");
                        break;
                    }
                }
                CHECK(bits(dst[0]) == 0x7FA5A5A5u);
                for (size_t i = size_t(m) + 1; i < dst.size(); ++i) CHECK_MESSAGE(bits(dst[i]) == 0x7FA5A5A5u, name, ": wrote past dst[n]");
            }
        }
        // The whole sweep in one call (long runs, every tail).
        std::vector<float> y(x.size());
        k->run(int64_t(x.size()), x.data(), y.data());
        for (size_t i = 0; i < x.size(); ++i)
            if (!within_ulps(y[i], sigmoid_exact(x[i]), 2.0)) { CHECK_MESSAGE(false, name, " x=", x[i], ": ", y[i]); break; }
    }
}
