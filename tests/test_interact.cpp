// Interaction kernels: dot interaction (with and without the diagonal) and the DCN cross step.
// Every registered variant the CPU can run is compared with the ref; the ref with double precision.
#include <doctest/doctest.h>

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
constexpr double f_eps = 1.0 / (1 << 24);
constexpr uint32_t sentinel_bits = 0x7FA5A5A5u;

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

bool is_sentinel(float f) { return std::memcmp(&f, &sentinel_bits, 4) == 0; }
float sentinel() {
    float f;
    std::memcpy(&f, &sentinel_bits, 4);
    return f;
}

int64_t out_width(int64_t F, int64_t D, bool diag) { return D + F * (F - 1) / 2 + (diag ? F : 0); }

struct dot_case {
    int64_t batch, F, D, src_ld, dst_ld;
    bool diag;
    std::vector<float> src;  // batch · src_ld, starts at index 1 (misaligned by one float)
};

dot_case make_dot_case(int64_t batch, int64_t F, int64_t D, bool diag, bool small_int, std::mt19937& rng) {
    dot_case c{batch, F, D, F * D + 3, out_width(F, D, diag) + 5, diag, {}};
    std::uniform_int_distribution<int> small(-3, 3);
    std::uniform_real_distribution<float> real(-1.0f, 1.0f);
    c.src.resize(size_t(1 + batch * c.src_ld));
    for (auto& v : c.src) v = small_int ? float(small(rng)) : real(rng);
    return c;
}

// dst with sentinels everywhere but the outputs; the kernel writes at index 1 (misaligned).
std::vector<float> run_dot(const interact_dot_kernel& k, const dot_case& c) {
    std::vector<float> dst(size_t(1 + c.batch * c.dst_ld + 16), sentinel());
    k.run(interact_dot_args{c.batch, c.F, c.D, c.src.data() + 1, c.src_ld, dst.data() + 1, c.dst_ld, c.diag});
    return dst;
}

// Exact (double) value of output column `col` of sample b, and Σ|terms| for the error bound.
double dot_exact(const dot_case& c, int64_t b, int64_t col, double* abs_sum) {
    const float* x = c.src.data() + 1 + b * c.src_ld;
    *abs_sum = 0;
    if (col < c.D) return x[col];
    int64_t pos = c.D;
    for (int64_t i = 0; i < c.F; ++i) {  // torch: li, lj over i < F, j < i (+1 with diag)
        for (int64_t j = 0; j <= (c.diag ? i : i - 1); ++j, ++pos) {
            if (pos != col) continue;
            double s = 0;
            for (int64_t d = 0; d < c.D; ++d) {
                const double p = double(x[i * c.D + d]) * double(x[j * c.D + d]);
                s += p;
                *abs_sum += std::fabs(p);
            }
            return s;
        }
    }
    return NAN;
}

}  // namespace

TEST_CASE("interact_dot ref matches a double-precision Gram matrix") {
    const unsigned seed = 555;
    std::mt19937 rng(seed);
    for (bool diag : {false, true}) {
        for (auto [F, D] : std::vector<std::pair<int64_t, int64_t>>{{1, 4}, {2, 1}, {3, 7}, {27, 128}, {8, 33}}) {
            INFO("F=", F, " D=", D, " diag=", diag, " seed=", seed);
            const dot_case c = make_dot_case(3, F, D, diag, false, rng);
            const std::vector<float> got = run_dot(interact_dot_f32__ref, c);
            const int64_t W = out_width(F, D, diag);
            for (int64_t b = 0; b < c.batch; ++b) {
                for (int64_t col = 0; col < W; ++col) {
                    double abs_sum = 0;
                    const double want = dot_exact(c, b, col, &abs_sum);
                    // Recursive fp32 summation of D exact-in-double products: |error| ≤ D·u·Σ|x_i·x_j| (+ product rounding).
                    REQUIRE(std::fabs(double(got[size_t(1 + b * c.dst_ld + col)]) - want) <= double(D + 1) * f_eps * abs_sum);
                }
                for (int64_t col = W; col < c.dst_ld; ++col) REQUIRE(is_sentinel(got[size_t(1 + b * c.dst_ld + col)]));
            }
        }
    }
    // MLPerf v1: 27 vectors of 128 → 128 + 351 = 479 outputs.
    CHECK(out_width(27, 128, false) == 479);
}

TEST_CASE("interact_dot variants match the ref") {
    const unsigned seed = 8080;
    std::mt19937 rng(seed);
    for (const interact_dot_kernel* k : runnable<interact_dot_kernel>(family::interact_dot)) {
        for (bool diag : {false, true}) {
            for (int64_t F : {1, 2, 3, 8, 17, 27}) {
                for (int64_t D : sizes) {
                    for (bool small_int : {true, false}) {
                        INFO("variant ", std::string(k->name), " F=", F, " D=", D, " diag=", diag, " small_int=", small_int, " seed=", seed);
                        const dot_case c = make_dot_case(F > 8 ? 2 : 5, F, D, diag, small_int, rng);
                        const std::vector<float> got = run_dot(*k, c), want = run_dot(interact_dot_f32__ref, c);
                        const int64_t W = out_width(F, D, diag);
                        int bad = 0;
                        for (size_t i = 0; i < got.size() && bad < 5; ++i) {
                            const int64_t rel = int64_t(i) - 1;
                            const int64_t col = rel >= 0 ? rel % c.dst_ld : -1;
                            const bool is_output = rel >= 0 && rel < c.batch * c.dst_ld && col < W;
                            if (!is_output) {
                                if (!is_sentinel(got[i])) { ++bad; CHECK_MESSAGE(false, "wrote outside the outputs at ", rel); }
                                continue;
                            }
                            double abs_sum = 0;
                            dot_exact(c, rel / c.dst_ld, col, &abs_sum);
                            // Small integers: exact in any order. Otherwise two orders of D terms.
                            const double tol = small_int || col < D ? 0.0 : 2.0 * double(D + 1) * f_eps * abs_sum;
                            if (!(std::fabs(double(got[i]) - double(want[i])) <= tol)) {
                                ++bad;
                                CHECK_MESSAGE(false, "sample ", rel / c.dst_ld, " column ", col, ": ", got[i], ", ref ",
                                              want[i], ", tolerance ", tol);
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------

namespace {

struct cross_case {
    std::vector<float> x0, y, xl;  // each n + 1 long, data from index 1 (misaligned)
};

cross_case make_cross_case(int64_t n, std::mt19937& rng) {
    std::uniform_real_distribution<float> real(-2.0f, 2.0f);
    cross_case c;
    for (auto* v : {&c.x0, &c.y, &c.xl}) {
        v->resize(size_t(n + 1));
        for (auto& f : *v) f = real(rng);
    }
    return c;
}

// Exact x0·y + xl and its error scale: one variant may fuse (one rounding), the ref does not (two).
double cross_exact(const cross_case& c, size_t i, double* scale) {
    const double p = double(c.x0[i]) * double(c.y[i]);
    *scale = std::fabs(p) + std::fabs(double(c.xl[i]));
    return p + double(c.xl[i]);
}

}  // namespace

TEST_CASE("dcn_cross ref matches double precision") {
    std::mt19937 rng(11);
    const int64_t n = 3456;
    const cross_case c = make_cross_case(n, rng);
    std::vector<float> dst(size_t(n + 2), sentinel());
    dcn_cross_f32__ref.run(n, c.x0.data() + 1, c.y.data() + 1, c.xl.data() + 1, dst.data() + 1);
    for (int64_t i = 0; i < n; ++i) {
        double scale;
        const double want = cross_exact(c, size_t(i + 1), &scale);
        REQUIRE(std::fabs(double(dst[size_t(i + 1)]) - want) <= 2 * f_eps * scale);  // two roundings
    }
    CHECK(is_sentinel(dst[0]));
    CHECK(is_sentinel(dst[size_t(n + 1)]));
}

TEST_CASE("dcn_cross variants match the ref, also in place (dst == xl)") {
    const unsigned seed = 2718;
    std::mt19937 rng(seed);
    for (const dcn_cross_kernel* k : runnable<dcn_cross_kernel>(family::dcn_cross)) {
        for (int64_t n : sizes) {
            for (int64_t n2 : {n, n + 3456}) {
                INFO("variant ", std::string(k->name), " n=", n2, " seed=", seed);
                const cross_case c = make_cross_case(n2, rng);
                std::vector<float> got(size_t(n2 + 17), sentinel()), want = got;
                k->run(n2, c.x0.data() + 1, c.y.data() + 1, c.xl.data() + 1, got.data() + 1);
                dcn_cross_f32__ref.run(n2, c.x0.data() + 1, c.y.data() + 1, c.xl.data() + 1, want.data() + 1);
                std::vector<float> inplace = c.xl;  // dst aliases xl
                k->run(n2, c.x0.data() + 1, c.y.data() + 1, inplace.data() + 1, inplace.data() + 1);
                int bad = 0;
                for (int64_t i = 0; i < n2 && bad < 5; ++i) {
                    double scale;
                    cross_exact(c, size_t(i + 1), &scale);
                    const float g = got[size_t(i + 1)], w = want[size_t(i + 1)];
                    // ref: two roundings; a fused variant: one. They differ by at most 2u·scale.
                    if (!(std::fabs(double(g) - double(w)) <= 2 * f_eps * scale) ||
                        std::memcmp(&g, &inplace[size_t(i + 1)], 4) != 0) {
                        ++bad;
                        CHECK_MESSAGE(false, "i=", i, ": ", g, " (in place ", inplace[size_t(i + 1)], "), ref ", w);
                    }
                }
                CHECK(is_sentinel(got[0]));
                for (size_t i = size_t(n2 + 1); i < got.size(); ++i) CHECK_MESSAGE(is_sentinel(got[i]), "wrote past dst[n]");
                CHECK(std::memcmp(&inplace[0], &c.xl[0], 4) == 0);
            }
        }
    }
}
