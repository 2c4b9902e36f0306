// GEMM kernels (f32, bf16, u8s8): every registered variant the CPU can run against the ref, and the
// ref against an independent double-precision computation.
//
// Inputs are small integers wherever possible, so every product and partial sum is exact in fp32 and
// any summation order gives the same bits: variants must then match the ref exactly. Random real
// inputs are checked against a documented bound instead.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/ref/ref_kernels.h"

using namespace dlrm::kernels;

namespace {

const int64_t sizes[] = {1, 2, 7, 15, 16, 17, 31, 32, 33, 40, 64, 85, 128, 163, 256};
constexpr float f_eps = 1.0f / (1 << 24);  // unit roundoff of fp32

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

// A buffer whose data starts `misalign` elements after a 64-byte boundary, with sentinel elements
// before and after it so a kernel writing out of range is caught.
template <class T>
struct guarded {
    static constexpr size_t pad = 64;
    std::vector<T> store;
    size_t begin = 0, n = 0;
    T sentinel;
    guarded(size_t count, size_t misalign, T fill) : n(count), sentinel(fill) {
        store.assign(count + 2 * pad + 64 / sizeof(T) + misalign, fill);
        size_t i = 0;
        while (reinterpret_cast<uintptr_t>(&store[i]) % 64 != 0) ++i;
        begin = i + pad + misalign;
    }
    T* data() { return store.data() + begin; }
    T& operator[](size_t i) { return store[begin + i]; }
    bool outside_intact() const {
        for (size_t i = 0; i < store.size(); ++i)
            if ((i < begin || i >= begin + n) && std::memcmp(&store[i], &sentinel, sizeof(T)) != 0) return false;
        return true;
    }
};

float sentinel_f32() {
    const uint32_t bits = 0x7FA5A5A5u;  // a NaN no kernel produces
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

// A packed-weight buffer: 64-byte aligned as the contract requires, with guard bytes after it.
struct packed_buf {
    std::vector<uint8_t> store;
    size_t begin = 0, bytes = 0;
    explicit packed_buf(size_t b) : bytes(b) {
        store.assign(b + 128, 0xA5);
        while (reinterpret_cast<uintptr_t>(&store[begin]) % 64 != 0) ++begin;
    }
    void* data() { return store.data() + begin; }
    bool tail_intact() const {
        for (size_t i = begin + bytes; i < store.size(); ++i)
            if (store[i] != 0xA5) return false;
        return true;
    }
};

// The dst row gaps (ldd > N) must stay untouched too.
bool dst_gaps_intact(guarded<float>& dst, int64_t M, int64_t N, int64_t ldd) {
    for (int64_t m = 0; m < M; ++m)
        for (int64_t n = N; n < ldd && m * ldd + n < int64_t(dst.n); ++n)
            if (!same_bits(dst[size_t(m * ldd + n)], dst.sentinel)) return false;
    return dst.outside_intact();
}

struct f32_case {
    int64_t M, N, K, lda, ldd;
    std::vector<float> src, w, bias;
};

f32_case make_f32_case(int64_t M, int64_t N, int64_t K, std::mt19937& rng, bool small_int) {
    f32_case c{M, N, K, K + 3, N + 5, {}, {}, {}};
    std::uniform_int_distribution<int> small(-4, 4);
    std::uniform_real_distribution<float> real(-1.0f, 1.0f);
    auto draw = [&] { return small_int ? float(small(rng)) : real(rng); };
    c.src.resize(size_t(M * c.lda));
    for (auto& v : c.src) v = draw();
    c.w.resize(size_t(N * K));
    for (auto& v : c.w) v = draw();
    c.bias.resize(size_t(N));
    for (auto& v : c.bias) v = 2.0f * draw();
    return c;
}

// Runs one fp32-style GEMM variant (f32 or bf16 family) into a guarded dst; checks the guards.
template <class K>
guarded<float> run_f32_family(const K& k, const f32_case& c, bool with_bias, epilogue epi) {
    packed_buf packed(k.packed_bytes(c.N, c.K));
    k.pack(c.w.data(), c.N, c.K, packed.data());
    CHECK_MESSAGE(packed.tail_intact(), std::string(k.name), ": pack wrote past packed_bytes");
    guarded<float> src(c.src.size(), 1, 0.0f);  // misaligned by one float
    std::memcpy(src.data(), c.src.data(), c.src.size() * 4);
    guarded<float> dst(size_t(c.M * c.ldd), 1, sentinel_f32());
    gemm_f32_args a{c.M, c.N, c.K, src.data(), c.lda, packed.data(), with_bias ? c.bias.data() : nullptr,
                    dst.data(), c.ldd, epi};
    k.run(a);
    CHECK_MESSAGE(dst_gaps_intact(dst, c.M, c.N, c.ldd), std::string(k.name), ": wrote outside dst");
    return dst;
}

// Σ_k x·w in double from operands already given (exact for small integers).
double dot_double(const float* x, const float* w, int64_t K, double* abs_sum) {
    double s = 0, a = 0;
    for (int64_t k = 0; k < K; ++k) {
        s += double(x[k]) * double(w[k]);
        a += std::fabs(double(x[k]) * double(w[k]));
    }
    if (abs_sum) *abs_sum = a;
    return s;
}

// Independent bf16 rounding (round to nearest even on the value, via frexp/nearbyint).
float bf16_round(float x) {
    if (x == 0.0f || !std::isfinite(x)) return x;
    int e;
    const double f = std::frexp(double(x), &e);  // x = f·2^e, |f| in [0.5, 1)
    return float(std::ldexp(std::nearbyint(std::ldexp(f, 8)), e - 8));
}

// Checks `k` (f32 or bf16 family) on one case: exact vs ref for small integers, else within `tol`.
template <class K>
void check_f32_family(const K& k, const K& ref, const f32_case& c, bool small_int, unsigned seed) {
    for (bool with_bias : {false, true}) {
        for (epilogue epi : {epilogue::none, epilogue::relu}) {
            INFO("variant ", std::string(k.name), " M=", c.M, " N=", c.N, " K=", c.K, " seed=", seed, " bias=", with_bias,
                 " relu=", epi == epilogue::relu);
            guarded<float> got = run_f32_family(k, c, with_bias, epi);
            guarded<float> want = run_f32_family(ref, c, with_bias, epi);
            int bad = 0;
            for (int64_t m = 0; m < c.M && bad < 5; ++m) {
                for (int64_t n = 0; n < c.N && bad < 5; ++n) {
                    const float g = got[size_t(m * c.ldd + n)], w = want[size_t(m * c.ldd + n)];
                    // Two summation orders of K terms each differ by at most 2·K·u·Σ|x·w| (+ bias rounding).
                    double abs_sum = 0;
                    dot_double(c.src.data() + m * c.lda, c.w.data() + n * c.K, c.K, &abs_sum);
                    const double tol =
                        small_int ? 0.0 : 2.0 * double(c.K + 2) * f_eps * (abs_sum + std::fabs(c.bias[size_t(n)]));
                    if (!(std::fabs(double(g) - double(w)) <= tol)) {
                        ++bad;
                        CHECK_MESSAGE(false, "dst[", m, "][", n, "] = ", g, ", ref ", w, ", tolerance ", tol);
                    }
                }
            }
        }
    }
}

std::vector<std::array<int64_t, 3>> gemm_shapes() {
    std::vector<std::array<int64_t, 3>> shapes;
    for (int64_t N : sizes)
        for (int64_t K : sizes) shapes.push_back({3, N, K});  // N × K sweep at an odd M
    for (int64_t M : sizes) shapes.push_back({M, 33, 17});   // M sweep (odd and even M)
    // MLPerf layers: bottom MLP input, DLRM v1 top MLP input, DLRM v2 top MLP input.
    shapes.push_back({5, 512, 13});
    shapes.push_back({5, 1024, 479});
    shapes.push_back({3, 512, 3456});
    // Full 13- and 14-row tiles (the balanced row tiles of M = 41 and 27) with a long K loop, K not a
    // multiple of 4, and a last panel of one vector after panels of two.
    shapes.push_back({41, 70, 300});
    shapes.push_back({27, 64, 97});
    // Rows longer than the u8s8 kernel's staging buffer (4096): read in place, with a K tail.
    shapes.push_back({3, 40, 4099});
    return shapes;
}

}  // namespace

TEST_CASE("gemm_f32 ref matches an independent double computation") {
    const unsigned seed = 1234;
    std::mt19937 rng(seed);
    for (bool small_int : {true, false}) {
        for (auto [M, N, K] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {7, 33, 85}, {3, 512, 3456}, {4, 17, 0}}) {
            INFO("M=", M, " N=", N, " K=", K, " seed=", seed, " small_int=", small_int);
            f32_case c = make_f32_case(M, N, K, rng, small_int);
            guarded<float> got = run_f32_family(gemm_f32__ref, c, true, epilogue::relu);
            for (int64_t m = 0; m < M; ++m) {
                for (int64_t n = 0; n < N; ++n) {
                    double abs_sum = 0;
                    double want = dot_double(c.src.data() + m * c.lda, c.w.data() + n * K, K, &abs_sum) +
                                  c.bias[size_t(n)];
                    want = want > 0 ? want : 0;
                    // Recursive summation: |error| ≤ (K+1)·u·(Σ|x·w| + |bias|) (Higham, γ_{K+1}).
                    const double tol = small_int ? 0.0 : double(K + 1) * f_eps * (abs_sum + std::fabs(c.bias[size_t(n)]));
                    REQUIRE(std::fabs(double(got[size_t(m * c.ldd + n)]) - want) <= tol);
                }
            }
        }
    }
}

TEST_CASE("gemm_bf16 ref matches an independent double computation on bf16-rounded operands") {
    const unsigned seed = 99;
    std::mt19937 rng(seed);
    for (bool small_int : {true, false}) {
        for (auto [M, N, K] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {7, 33, 85}, {3, 512, 3456}}) {
            INFO("M=", M, " N=", N, " K=", K, " seed=", seed, " small_int=", small_int);
            f32_case c = make_f32_case(M, N, K, rng, small_int);
            guarded<float> got = run_f32_family(gemm_bf16__ref, c, true, epilogue::none);
            for (int64_t m = 0; m < M; ++m) {
                for (int64_t n = 0; n < N; ++n) {
                    double want = c.bias[size_t(n)], abs_sum = std::fabs(c.bias[size_t(n)]);
                    for (int64_t k = 0; k < K; ++k) {
                        const double p = double(bf16_round(c.src[size_t(m * c.lda + k)])) *
                                         double(bf16_round(c.w[size_t(n * K + k)]));
                        want += p;
                        abs_sum += std::fabs(p);
                    }
                    // Products of bf16 values are exact in fp32; only the K+1 additions round.
                    const double tol = small_int ? 0.0 : double(K + 1) * f_eps * abs_sum;
                    REQUIRE(std::fabs(double(got[size_t(m * c.ldd + n)]) - want) <= tol);
                }
            }
        }
    }
}

TEST_CASE("gemm_f32 variants match the ref") {
    const unsigned seed = 20240601;
    std::mt19937 rng(seed);
    for (const gemm_f32_kernel* k : runnable<gemm_f32_kernel>(family::gemm_f32)) {
        for (auto [M, N, K] : gemm_shapes()) check_f32_family(*k, gemm_f32__ref, make_f32_case(M, N, K, rng, true), true, seed);
        for (auto [M, N, K] : std::vector<std::array<int64_t, 3>>{{5, 163, 85}, {2, 64, 479}})
            check_f32_family(*k, gemm_f32__ref, make_f32_case(M, N, K, rng, false), false, seed);
    }
}

TEST_CASE("gemm_bf16 variants match the ref") {
    const unsigned seed = 20240602;
    std::mt19937 rng(seed);
    for (const gemm_bf16_kernel* k : runnable<gemm_bf16_kernel>(family::gemm_bf16)) {
        for (auto [M, N, K] : gemm_shapes()) check_f32_family(*k, gemm_bf16__ref, make_f32_case(M, N, K, rng, true), true, seed);
        for (auto [M, N, K] : std::vector<std::array<int64_t, 3>>{{5, 163, 85}, {2, 64, 479}})
            check_f32_family(*k, gemm_bf16__ref, make_f32_case(M, N, K, rng, false), false, seed);
    }
}

// ---------------------------------------------------------------------------------------------
// u8s8

namespace {

struct u8s8_case {
    int64_t M, N, K, lda, ldd;
    std::vector<uint8_t> src;
    std::vector<int8_t> w;
    std::vector<float> w_scale, bias;
    std::vector<int32_t> comp;
    float src_scale;
    int32_t src_zp;
    float dst_scale;
    int32_t dst_zp;
};

// pow2_scales: every scale a power of two, so the epilogue is exact up to float(acc) and the final
// addition, which every variant performs identically; results must then match the ref bit for bit.
u8s8_case make_u8s8_case(int64_t M, int64_t N, int64_t K, std::mt19937& rng, bool pow2_scales) {
    u8s8_case c{M, N, K, K + 3, N + 5, {}, {}, {}, {}, {}, 0, 0, 0, 0};
    std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127), zp(100, 140), e(-9, -5), b(-64, 64);
    std::uniform_real_distribution<float> real(0.5f, 2.0f);
    c.src.resize(size_t(M * c.lda));
    for (auto& v : c.src) v = uint8_t(u8(rng));
    c.w.resize(size_t(N * K));
    for (auto& v : c.w) v = int8_t(s8(rng));
    c.src_zp = zp(rng);
    c.src_scale = pow2_scales ? 1.0f / 16 : 0.0613f;
    c.w_scale.resize(size_t(N));
    for (auto& v : c.w_scale) v = pow2_scales ? std::ldexp(1.0f, e(rng)) : real(rng) / 128;
    c.bias.resize(size_t(N));
    for (auto& v : c.bias) v = float(b(rng)) / 4;
    c.comp.resize(size_t(N));
    for (int64_t n = 0; n < N; ++n) {
        int32_t s = 0;
        for (int64_t k = 0; k < K; ++k) s += c.w[size_t(n * K + k)];
        c.comp[size_t(n)] = c.src_zp * s;
    }
    // Outputs span roughly ±(|acc|·scales); a dst_scale of that order exercises both clamp ends.
    c.dst_scale = pow2_scales ? std::ldexp(1.0f, int(std::ilogb(float(K))) - 2) : 0.37f * float(K) / 64;
    c.dst_zp = 100;
    return c;
}

struct u8s8_out {
    guarded<float> f32;
    guarded<uint8_t> u8;
};

// What a call writes: fp32 only, u8 only, both (u8 at its own stride ldq), or the DCN cross with
// both outputs and dst_f32 the same array as xl (the engine's in-place x_{l+1}).
// cross: the DCN cross with fp32 (in place over xl) and u8 outputs; cross_u8: the cross with only
// the u8 output (the engine's last DCN layer before an int8 top.0), xl in a buffer of its own.
enum class u8s8_mode { f32, u8, both, cross, cross_u8 };
const char* mode_name(u8s8_mode m) {
    return m == u8s8_mode::f32 ? "f32" : m == u8s8_mode::u8 ? "u8" : m == u8s8_mode::both ? "both" : m == u8s8_mode::cross ? "cross" : "cross_u8";
}
bool writes_f32(u8s8_mode m) { return m != u8s8_mode::u8 && m != u8s8_mode::cross_u8; }
bool is_cross(u8s8_mode m) { return m == u8s8_mode::cross || m == u8s8_mode::cross_u8; }
bool writes_u8(u8s8_mode m) { return m != u8s8_mode::f32; }
int64_t ldq_of(const u8s8_case& c, u8s8_mode m) { return m == u8s8_mode::u8 ? c.ldd : c.N + 9; }
// The cross inputs: multiples of 1/4 in [−2, 2], so with power-of-two scales every step is exact.
float cross_x0(int64_t m, int64_t n) { return float(int((m * 7 + n * 3) % 17) - 8) / 4; }
float cross_xl(int64_t m, int64_t n) { return float(int((m * 5 + n * 11) % 13) - 6) / 4; }

u8s8_out run_u8s8(const gemm_u8s8_kernel& k, const u8s8_case& c, bool with_bias, epilogue epi, u8s8_mode mode) {
    const int64_t ldq = ldq_of(c, mode);
    packed_buf packed(k.packed_bytes(c.N, c.K));
    k.pack(c.w.data(), c.N, c.K, packed.data());
    CHECK_MESSAGE(packed.tail_intact(), std::string(k.name), ": pack wrote past packed_bytes");
    guarded<uint8_t> src(c.src.size(), 1, 0);  // misaligned by one byte
    std::memcpy(src.data(), c.src.data(), c.src.size());
    u8s8_out out{guarded<float>(size_t(c.M * c.ldd), 1, sentinel_f32()),
                 guarded<uint8_t>(size_t(c.M * std::max(c.ldd, ldq)), 1, uint8_t(0xA5))};
    guarded<float> x0(size_t(c.M * c.ldd), 1, sentinel_f32());
    guarded<float> xl(size_t(c.M * c.ldd), 1, sentinel_f32());  // cross_u8's xl, which must stay as it is
    if (is_cross(mode))
        for (int64_t m = 0; m < c.M; ++m)
            for (int64_t n = 0; n < c.N; ++n) {
                x0[size_t(m * c.ldd + n)] = cross_x0(m, n);
                // cross: xl is dst_f32, overwritten in place by x0·v + xl
                (mode == u8s8_mode::cross ? out.f32 : xl)[size_t(m * c.ldd + n)] = cross_xl(m, n);
            }
    gemm_u8s8_args a{c.M, c.N, c.K, src.data(), c.lda, c.src_scale, c.src_zp, packed.data(),
                     c.w_scale.data(), c.comp.data(), with_bias ? c.bias.data() : nullptr,
                     writes_f32(mode) ? out.f32.data() : nullptr, writes_u8(mode) ? out.u8.data() : nullptr,
                     c.dst_scale, c.dst_zp, c.ldd, epi};
    a.ldq = mode == u8s8_mode::u8 ? 0 : ldq;
    if (is_cross(mode)) {
        a.x0 = x0.data();
        a.xl = mode == u8s8_mode::cross ? out.f32.data() : xl.data();
        a.ldx = c.ldd;
    }
    k.run(a);
    if (mode == u8s8_mode::cross_u8) {
        bool kept = true;
        for (int64_t m = 0; m < c.M; ++m)
            for (int64_t n = 0; n < c.N; ++n) kept = kept && same_bits(xl[size_t(m * c.ldd + n)], cross_xl(m, n));
        CHECK_MESSAGE(kept, std::string(k.name), ": cross with a u8-only output wrote into xl");
    }
    // Whichever dst was not asked for must be left entirely alone, and row gaps too.
    for (int64_t m = 0; m < c.M; ++m) {
        for (int64_t n = 0; n < std::max(c.ldd, ldq); ++n) {
            const size_t iq = size_t(m * ldq + n), i = size_t(m * c.ldd + n);
            if (writes_u8(mode) && n < ldq && n >= c.N && out.u8[iq] != 0xA5)
                CHECK_MESSAGE(false, std::string(k.name), ": wrote a dst_u8 row gap");
            if (!writes_u8(mode) && out.u8[size_t(m * c.ldd + std::min(n, c.ldd - 1))] != 0xA5)
                CHECK_MESSAGE(false, std::string(k.name), ": wrote dst_u8 in f32 mode");
            if (!writes_f32(mode) && n < c.ldd && !same_bits(out.f32[i], out.f32.sentinel))
                CHECK_MESSAGE(false, std::string(k.name), ": wrote dst_f32 in u8 mode");
        }
    }
    if (writes_u8(mode)) CHECK_MESSAGE(out.u8.outside_intact(), std::string(k.name), ": wrote outside dst_u8");
    if (writes_f32(mode)) CHECK_MESSAGE(dst_gaps_intact(out.f32, c.M, c.N, c.ldd), std::string(k.name), ": wrote outside dst_f32");
    return out;
}

}  // namespace

TEST_CASE("gemm_u8s8 ref matches an independent computation") {
    const unsigned seed = 777;
    std::mt19937 rng(seed);
    for (bool pow2 : {true, false}) {
        for (auto [M, N, K] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {7, 33, 85}, {3, 512, 3456}}) {
            INFO("M=", M, " N=", N, " K=", K, " seed=", seed, " pow2=", pow2);
            u8s8_case c = make_u8s8_case(M, N, K, rng, pow2);
            u8s8_out f = run_u8s8(gemm_u8s8s32__ref, c, true, epilogue::none, u8s8_mode::f32);
            u8s8_out q = run_u8s8(gemm_u8s8s32__ref, c, true, epilogue::relu, u8s8_mode::u8);
            u8s8_out x = run_u8s8(gemm_u8s8s32__ref, c, true, epilogue::none, u8s8_mode::cross);
            u8s8_out xq = run_u8s8(gemm_u8s8s32__ref, c, true, epilogue::none, u8s8_mode::cross_u8);
            for (int64_t m = 0; m < M; ++m) {
                for (int64_t n = 0; n < N; ++n) {
                    // The real-valued definition: scales times (q − zp)·w, summed exactly in int64.
                    int64_t acc = 0;
                    for (int64_t k = 0; k < K; ++k)
                        acc += (int64_t(c.src[size_t(m * c.lda + k)]) - c.src_zp) * c.w[size_t(n * K + k)];
                    const double v = double(c.src_scale) * double(c.w_scale[size_t(n)]) * double(acc) +
                                     double(c.bias[size_t(n)]);
                    // fp32: float(acc), two products and the bias addition round: ≤ 4u relative to the terms.
                    const double tol = 4.0 * f_eps * (std::fabs(v - c.bias[size_t(n)]) + std::fabs(c.bias[size_t(n)]));
                    const size_t i = size_t(m * c.ldd + n);
                    REQUIRE(std::fabs(double(f.f32[i]) - v) <= tol);
                    // u8: the same value requantized; the fp32 rounding above may move a tie by one step.
                    const double r = std::min(255.0, std::max(0.0, std::nearbyint(std::max(v, 0.0) / c.dst_scale) + c.dst_zp));
                    REQUIRE(std::fabs(double(q.u8[i]) - r) <= 1.0);
                    // With power-of-two scales the ref is exact whenever acc and v are exact in fp32.
                    if (pow2 && std::fabs(double(acc)) < 1 << 24 && double(float(v)) == v) REQUIRE(double(q.u8[i]) == r);
                    // DCN cross: x0·v + xl on the fp32 v, product and sum each rounded once.
                    const float p = cross_x0(m, n) * f.f32[i];
                    REQUIRE(same_bits(x.f32[i], p + cross_xl(m, n)));
                    // Both outputs: the u8 copy is the requantized cross value, at its own stride.
                    const double rq = std::min(255.0, std::max(0.0, std::nearbyint(double(x.f32[i]) / c.dst_scale) + c.dst_zp));
                    REQUIRE(std::fabs(double(x.u8[size_t(m * ldq_of(c, u8s8_mode::cross) + n)]) - rq) <= 1.0);
                    // Without the fp32 output the u8 codes are the same as with it.
                    REQUIRE(xq.u8[size_t(m * ldq_of(c, u8s8_mode::cross_u8) + n)] == x.u8[size_t(m * ldq_of(c, u8s8_mode::cross) + n)]);
                }
            }
        }
    }
}

TEST_CASE("gemm_u8s8 variants match the ref") {
    const unsigned seed = 20240603;
    std::mt19937 rng(seed);
    for (const gemm_u8s8_kernel* k : runnable<gemm_u8s8_kernel>(family::gemm_u8s8)) {
        for (bool pow2 : {true, false}) {
            for (auto [M, N, K] : gemm_shapes()) {
                const u8s8_case c = make_u8s8_case(M, N, K, rng, pow2);
                for (bool with_bias : {false, true}) {
                    for (epilogue epi : {epilogue::none, epilogue::relu}) {
                        for (u8s8_mode mode : {u8s8_mode::f32, u8s8_mode::u8, u8s8_mode::both, u8s8_mode::cross, u8s8_mode::cross_u8}) {
                            INFO("variant ", std::string(k->name), " M=", M, " N=", N, " K=", K, " seed=", seed, " pow2=", pow2,
                                 " bias=", with_bias, " relu=", epi == epilogue::relu, " outputs=", std::string(mode_name(mode)));
                            u8s8_out got = run_u8s8(*k, c, with_bias, epi, mode);
                            u8s8_out want = run_u8s8(gemm_u8s8s32__ref, c, with_bias, epi, mode);
                            const int64_t ldq = ldq_of(c, mode);
                            int bad = 0;
                            for (int64_t m = 0; m < M && bad < 5; ++m) {
                                for (int64_t n = 0; n < N && bad < 5; ++n) {
                                    const size_t i = size_t(m * c.ldd + n), iq = size_t(m * ldq + n);
                                    // Arbitrary scales: an fma or a reciprocal may move a rounding tie by one.
                                    const bool ok_u8 = !writes_u8(mode) ||
                                                       (pow2 ? got.u8[iq] == want.u8[iq] : std::abs(got.u8[iq] - want.u8[iq]) <= 1);
                                    bool ok_f32 = true;
                                    if (writes_f32(mode)) {
                                        const float g = got.f32[i], w = want.f32[i];
                                        const double x = mode == u8s8_mode::cross ? std::fabs(cross_x0(m, n)) + 1 : 1;
                                        ok_f32 = pow2 ? same_bits(g, w)
                                                      : std::fabs(g - w) <= 4 * f_eps * x * (std::fabs(w) + std::fabs(c.bias[size_t(n)]) + 2);
                                    }
                                    if (!ok_u8 || !ok_f32) {
                                        ++bad;
                                        CHECK_MESSAGE(false, "dst[", m, "][", n, "]: f32 ", got.f32[i], " (ref ", want.f32[i], "), u8 ",
                                                      int(got.u8[iq]), " (ref ", int(want.u8[iq]), ")");
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
