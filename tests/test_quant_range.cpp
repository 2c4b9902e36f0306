// Activation range selection (engine/quant/range.h) and the u8 qparams (plan.h): each method on
// distributions whose right answer is known, fixed seeds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "engine/quant/plan.h"
#include "engine/quant/range.h"

using namespace dlrm;

namespace {

value_histogram histogram_of(const std::vector<float>& x) {
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    value_histogram h = make_histogram(*lo, *hi);
    h.add(x.data(), int64_t(x.size()));
    return h;
}

// Mean squared error of quantizing x to u8 over [lo, hi] (qparams_for_range, the engine's rule).
double u8_mse(const std::vector<float>& x, clip_range r) {
    const act_qparams q = qparams_for_range(r.lo, r.hi);
    double e = 0;
    for (float v : x) {
        const float c = std::clamp(std::nearbyint(v * (1.0f / q.scale)) + float(q.zero_point), 0.0f, 255.0f);
        const double d = double(q.scale) * (c - q.zero_point) - v;
        e += d * d;
    }
    return e / double(x.size());
}

std::vector<float> relu_with_outliers(unsigned seed) {
    // Half exact zeros (a ReLU), the rest |N(0, 1)|, and 0.01 % outliers at 40: a post-ReLU input.
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0, 1);
    std::vector<float> x;
    for (int i = 0; i < 200000; ++i) x.push_back(i % 2 ? std::fabs(n(rng)) : 0.0f);
    for (int i = 0; i < 20; ++i) x.push_back(40.0f);
    return x;
}

}  // namespace

TEST_CASE("qparams_for_range: 0 is on the grid, post-ReLU ranges get zero point 0") {
    act_qparams q = qparams_for_range(0.0f, 25.5f);
    CHECK(q.zero_point == 0);
    CHECK(q.scale == doctest::Approx(0.1f));
    q = qparams_for_range(1.0f, 9.0f);  // widened to include 0
    CHECK(q.zero_point == 0);
    CHECK(q.scale == doctest::Approx(9.0f / 255));
    q = qparams_for_range(-10.0f, 10.0f);
    CHECK(std::abs(q.zero_point - 128) <= 1);  // 127.5 in exact arithmetic; fp32 decides
    q = qparams_for_range(0.0f, 0.0f);  // all zeros: scale 1, exact
    CHECK(q.scale == 1.0f);
    CHECK(q.zero_point == 0);
}

TEST_CASE("minmax keeps the observed range; percentile finds the quantile") {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(0, 1);
    std::vector<float> x(100000);
    for (auto& v : x) v = u(rng);
    const value_histogram h = histogram_of(x);
    const clip_range m = choose_range(range_method::minmax, h, 99.99);
    CHECK(m.lo == h.lo);
    CHECK(m.hi == h.hi);
    const clip_range p = choose_range(range_method::percentile, h, 99.0);
    CHECK(p.hi == doctest::Approx(0.99).epsilon(0.01));
    CHECK(p.lo == h.lo);  // no negative values: the lower end stays
}

TEST_CASE("histogram (L2) and entropy (KL): a uniform range kept; on a ReLU input L2 has the least error, KL clips outliers") {
    std::mt19937 rng(6);
    std::uniform_real_distribution<float> u(-3, 5);
    std::vector<float> flat(100000);
    for (auto& v : flat) v = u(rng);
    const value_histogram hf = histogram_of(flat);
    for (range_method m : {range_method::histogram, range_method::entropy}) {
        INFO(std::string(range_method_name(m)));
        const clip_range r = choose_range(m, hf, 99.99);
        // Clipping a uniform distribution only adds error: both keep (nearly) all of it.
        CHECK(r.hi - r.lo >= 0.9 * (hf.hi - hf.lo));
    }
    const std::vector<float> x = relu_with_outliers(7);
    const value_histogram h = histogram_of(x);
    CHECK(h.zeros == doctest::Approx(100000));
    // L2 search minimises the squared error: no other method's range does better (up to the bins).
    const double mse_l2 = u8_mse(x, choose_range(range_method::histogram, h, 99.99));
    for (range_method m : {range_method::minmax, range_method::percentile, range_method::entropy})
        CHECK(mse_l2 <= 1.01 * u8_mse(x, choose_range(m, h, 99.99)));
    // KL counts mass, not distance: it clips the 20 outliers at 40 (0.01 % of the values) but keeps
    // the body, |N(0,1)|, 99.99 % of it below 3.9 — and not the zero spike (exact zeros are free).
    const clip_range e = choose_range(range_method::entropy, h, 99.99);
    CHECK(e.hi > 3.0f);
    CHECK(e.hi < 20.0f);
}

TEST_CASE("histograms merge and count exact zeros") {
    std::vector<float> a = {0, 0, 1, 2}, b = {0, 3};
    value_histogram h = make_histogram(0, 3), g = make_histogram(0, 3);
    h.add(a.data(), 4);
    g.add(b.data(), 2);
    h.merge(g);
    CHECK(h.total() == 6);
    CHECK(h.zeros == 3);
}
