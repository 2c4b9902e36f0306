// engine/metrics: exact AUC, log loss, accuracy, the ROC curve and the radix sort under them.
// References are deliberately naive (all pairs, std::sort) so they share no code with the fast path.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "engine/metrics/auc.h"
#include "engine/metrics/radix_sort.h"
#include "engine/metrics/roc_svg.h"

using namespace dlrm;

namespace {

// AUC over all (positive, negative) pairs, ties ½, as an exact fraction num / (2·P·N).
double pairwise_auc(const std::vector<float>& p, const std::vector<int32_t>& y) {
    uint64_t num = 0, P = 0, N = 0;
    for (size_t i = 0; i < p.size(); ++i) (y[i] ? P : N)++;
    for (size_t i = 0; i < p.size(); ++i) {
        if (!y[i]) continue;
        for (size_t j = 0; j < p.size(); ++j) {
            if (y[j]) continue;
            num += p[i] > p[j] ? 2 : p[i] == p[j] ? 1 : 0;  // -0.0f == 0.0f, as it should be
        }
    }
    return double((long double)num / ((long double)2 * P * N));
}

// The same by sorting and grouping (for sizes where all pairs would take too long).
double sorted_auc(const std::vector<float>& p, const std::vector<int32_t>& y) {
    std::vector<std::pair<float, int32_t>> v(p.size());
    for (size_t i = 0; i < p.size(); ++i) v[i] = {p[i] == 0.0f ? 0.0f : p[i], y[i]};
    std::sort(v.begin(), v.end());
    uint64_t num = 0, below = 0, P = 0, N = 0;
    for (size_t i = 0; i < v.size();) {
        size_t j = i;
        uint64_t pos = 0, neg = 0;
        for (; j < v.size() && v[j].first == v[i].first; ++j) (v[j].second ? pos : neg)++;
        num += pos * (2 * below + neg);
        below += neg;
        P += pos;
        N += neg;
        i = j;
    }
    return double((long double)num / ((long double)2 * P * N));
}

double naive_logloss(const std::vector<float>& p, const std::vector<int32_t>& y) {
    double s = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        const double q = std::min(std::max(double(p[i]), 1e-15), 1 - 1e-15);
        s += y[i] ? -std::log(q) : -std::log(1 - q);
    }
    return s / double(p.size());
}

binary_metrics eval_ok(const std::vector<float>& p, const std::vector<int32_t>& y, roc_curve* c = nullptr) {
    REQUIRE(p.size() == y.size());
    auto r = evaluate_binary(p.data(), y.data(), int64_t(p.size()), c);
    INFO(r.error().message());
    REQUIRE(r.ok());
    return r.value();
}

std::string eval_error(const std::vector<float>& p, const std::vector<int32_t>& y, const binary_input_names& names = {}) {
    auto r = evaluate_binary(p.data(), y.data(), int64_t(p.size()), nullptr, names);
    REQUIRE(!r.ok());
    return r.error().message();
}

// Random predictions rounded to `decimals` so that ties across classes are frequent.
void random_case(std::mt19937_64& rng, size_t n, int decimals, std::vector<float>& p, std::vector<int32_t>& y) {
    std::uniform_real_distribution<double> u(0, 1);
    const double scale = std::pow(10.0, decimals);
    p.resize(n);
    y.resize(n);
    for (size_t i = 0; i < n; ++i) {
        const double s = u(rng);
        p[i] = float(std::round(s * scale) / scale);
        y[i] = u(rng) < 0.2 + 0.6 * s ? 1 : 0;  // informative: AUC well above ½
    }
    y[0] = 0;
    if (n > 1) y[1] = 1;
}

}  // namespace

TEST_CASE("auc: hand-computed cases") {
    // sklearn's own docstring-style example: 3 of 4 pairs ordered right.
    CHECK(eval_ok({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}).auc == 0.75);
    // Perfect and inverted rankings.
    CHECK(eval_ok({0.1f, 0.2f, 0.3f, 0.9f}, {0, 0, 1, 1}).auc == 1.0);
    CHECK(eval_ok({0.9f, 0.8f, 0.3f, 0.1f}, {0, 0, 1, 1}).auc == 0.0);
    // All scores tied: every pair counts ½.
    CHECK(eval_ok({0.3f, 0.3f, 0.3f, 0.3f, 0.3f}, {1, 0, 0, 1, 0}).auc == 0.5);
    // Ties across classes: pairs (0.5,0.5)=½, (0.5,0.2)=1, (0.9,0.5)=1, (0.9,0.2)=1 -> 3.5/4.
    CHECK(eval_ok({0.5f, 0.5f, 0.2f, 0.9f}, {1, 0, 0, 1}).auc == 0.875);
    // Smallest inputs with both classes.
    CHECK(eval_ok({0.7f, 0.2f}, {1, 0}).auc == 1.0);
    CHECK(eval_ok({0.7f, 0.2f}, {0, 1}).auc == 0.0);
    CHECK(eval_ok({0.0f, 1.0f}, {1, 0}).auc == 0.0);
    // Exact fractions that are not dyadic: 1 of 3 pairs.
    CHECK(eval_ok({0.2f, 0.1f, 0.3f, 0.25f}, {0, 1, 0, 1}).auc == 0.25);
    CHECK(eval_ok({0.2f, 0.1f, 0.3f}, {1, 0, 0}).auc == 0.5);
    CHECK(eval_ok({0.1f, 0.3f, 0.2f}, {1, 0, 0}).auc == 0.0);
    CHECK(eval_ok({0.25f, 0.3f, 0.2f}, {1, 0, 0}).auc == 0.5);
    CHECK(eval_ok({0.3f, 0.1f, 0.2f, 0.2f}, {0, 1, 0, 1}).auc == pairwise_auc({0.3f, 0.1f, 0.2f, 0.2f}, {0, 1, 0, 1}));
    CHECK(eval_ok({0.3f, 0.1f, 0.2f}, {1, 0, 1}).auc == 1.0);
    CHECK(eval_ok({0.1f, 0.2f, 0.15f}, {0, 1, 0}).auc == 1.0);
    CHECK(eval_ok({0.1f, 0.2f, 0.3f}, {0, 1, 0}).auc == 0.5);
    const auto third = eval_ok({0.1f, 0.2f, 0.3f, 0.05f}, {1, 0, 0, 0});  // 1 of 3 negatives below
    CHECK(third.auc == 1.0 / 3.0);
}

TEST_CASE("auc: negative zero ties with zero") {
    CHECK(eval_ok({-0.0f, 0.0f}, {1, 0}).auc == 0.5);
    CHECK(eval_ok({0.0f, -0.0f}, {1, 0}).auc == 0.5);
    CHECK(eval_ok({-0.0f, 0.0f, 1e-45f}, {0, 0, 1}).auc == 1.0);  // the smallest denormal is above both
}

TEST_CASE("auc: counts, accuracy threshold and log loss") {
    // 0.5 predicts 0: row 0 (0.5, y=0) is right, row 1 (0.5, y=1) is wrong.
    const auto m = eval_ok({0.5f, 0.5f, 0.75f, 0.25f}, {0, 1, 1, 1});
    CHECK(m.rows == 4);
    CHECK(m.positives == 3);
    CHECK(m.negatives == 1);
    CHECK(m.accuracy == 0.5);
    CHECK(m.logloss == doctest::Approx((std::log(2.0) * 2 - std::log(0.75) - std::log(0.25)) / 4).epsilon(1e-15));

    // Clipping to [1e-15, 1 - 1e-15] in double: confidently wrong rows cost about −ln(1e-15) = 34.5
    // (p = 1 costs −ln(1 − (1 − 1e-15)), as in sklearn, where 1 − 1e-15 rounds in double),
    // confidently right ones about 1e-15.
    const auto c = eval_ok({0.0f, 1.0f, 0.0f, 1.0f}, {1, 0, 0, 1});
    const double hi = 1 - 1e-15;
    CHECK(c.logloss == doctest::Approx((-std::log(1e-15) - std::log(1 - hi) - 2 * std::log(hi)) / 4).epsilon(1e-14));
    CHECK(c.logloss > 34.5 / 2);
    CHECK(c.accuracy == 0.5);
    CHECK(c.auc == 0.5);
}

TEST_CASE("auc: errors name the input, the row and the value") {
    CHECK(eval_error({0.1f, 0.2f, 0.3f}, {0, 0, 0}) == "labels: all 3 rows are 0: AUC needs both classes");
    CHECK(eval_error({0.1f, 0.2f}, {1, 1}) == "labels: all 2 rows are 1: AUC needs both classes");
    CHECK(eval_error({0.1f}, {1}) == "labels: all 1 rows are 1: AUC needs both classes");
    CHECK(eval_error({}, {}).find("AUC needs both classes") != std::string::npos);

    binary_input_names names;
    names.predictions = "pred.npy";
    names.labels = "day_0_labels.npy";
    names.prediction_first_row = 0;
    names.label_first_row = 1000;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(eval_error({0.1f, 0.2f, nan, 0.3f}, {0, 1, 0, 1}, names) ==
          "pred.npy: row 2: nan: predictions must be probabilities in [0, 1]");
    CHECK(eval_error({0.1f, 1.5f}, {0, 1}, names) == "pred.npy: row 1: 1.5: predictions must be probabilities in [0, 1]");
    CHECK(eval_error({-0.25f, 0.5f}, {0, 1}, names) ==
          "pred.npy: row 0: -0.25: predictions must be probabilities in [0, 1]");
    CHECK(eval_error({0.5f, std::numeric_limits<float>::infinity()}, {0, 1}, names) ==
          "pred.npy: row 1: inf: predictions must be probabilities in [0, 1]");
    CHECK(eval_error({0.1f, 0.2f, 0.3f}, {0, 2, 1}, names) == "day_0_labels.npy: row 1001: 2: labels must be 0 or 1");
    CHECK(eval_error({0.1f, 0.2f, 0.3f}, {0, -1, 1}, names) ==
          "day_0_labels.npy: row 1001: -1: labels must be 0 or 1");

    // The first bad row wins, also when it sits in a later block than other bad rows' threads see.
    std::vector<float> p(300000, 0.5f);
    std::vector<int32_t> y(300000, 0);
    y[7] = 1;
    p[250000] = nan;
    p[123457] = 2.0f;
    y[123456] = 3;
    CHECK(eval_error(p, y) == "labels: row 123456: 3: labels must be 0 or 1");
}

TEST_CASE("auc: uint8 labels give the same result as int32") {
    std::mt19937_64 rng(11);
    std::vector<float> p;
    std::vector<int32_t> y;
    random_case(rng, 5000, 2, p, y);
    std::vector<uint8_t> y8(y.begin(), y.end());
    const auto a = eval_ok(p, y);
    auto b = evaluate_binary(p.data(), y8.data(), int64_t(p.size()));
    REQUIRE(b.ok());
    CHECK(a.auc == b->auc);
    CHECK(a.logloss == b->logloss);
    CHECK(a.accuracy == b->accuracy);
    y8[3] = 7;
    auto bad = evaluate_binary(p.data(), y8.data(), int64_t(p.size()));
    REQUIRE(!bad.ok());
    CHECK(bad.error().message() == "labels: row 3: 7: labels must be 0 or 1");
}

TEST_CASE("auc: random inputs with many ties match the naive references exactly") {
    std::mt19937_64 rng(20240601);
    for (size_t n : {2, 3, 5, 17, 64, 257, 1000}) {
        for (int decimals : {0, 1, 2, 6}) {
            std::vector<float> p;
            std::vector<int32_t> y;
            random_case(rng, n, decimals, p, y);
            INFO("n=" << n << " decimals=" << decimals);
            const auto m = eval_ok(p, y);
            CHECK(m.auc == pairwise_auc(p, y));
            CHECK(m.logloss == doctest::Approx(naive_logloss(p, y)).epsilon(1e-13));
        }
    }
    // Large enough for several threads, several sort passes and several log-loss blocks.
    for (size_t n : {size_t(65537), size_t(1) << 20}) {
        std::vector<float> p;
        std::vector<int32_t> y;
        random_case(rng, n, 3, p, y);
        INFO("n=" << n);
        const auto m = eval_ok(p, y);
        CHECK(m.auc == sorted_auc(p, y));
        CHECK(m.logloss == doctest::Approx(naive_logloss(p, y)).epsilon(1e-12));
    }
}

TEST_CASE("auc: same bytes whatever the thread count") {
    std::mt19937_64 rng(5);
    std::vector<float> p;
    std::vector<int32_t> y;
    random_case(rng, 700001, 4, p, y);
    const int saved = omp_get_max_threads();
    std::vector<binary_metrics> ms;
    std::vector<roc_curve> cs;
    for (int t : {1, 2, 3, 7}) {
        omp_set_num_threads(t);
        roc_curve c;
        ms.push_back(eval_ok(p, y, &c));
        cs.push_back(c);
    }
    omp_set_num_threads(saved);
    for (size_t i = 1; i < ms.size(); ++i) {
        CHECK(std::memcmp(&ms[i], &ms[0], sizeof(binary_metrics)) == 0);
        CHECK(cs[i].fpr == cs[0].fpr);
        CHECK(cs[i].tpr == cs[0].tpr);
    }
}

TEST_CASE("auc: the downsampled ROC curve is a true, short, monotone curve") {
    std::mt19937_64 rng(99);
    for (int decimals : {1, 3, 6}) {
        std::vector<float> p;
        std::vector<int32_t> y;
        random_case(rng, 200000, decimals, p, y);
        roc_curve c;
        const auto m = eval_ok(p, y, &c);
        INFO("decimals=" << decimals);
        REQUIRE(c.fpr.size() == c.tpr.size());
        REQUIRE(c.fpr.size() >= 2);
        CHECK(c.fpr.size() <= 1003);
        CHECK(c.fpr.front() == 0.0);
        CHECK(c.tpr.front() == 0.0);
        CHECK(c.fpr.back() == 1.0);
        CHECK(c.tpr.back() == 1.0);
        // Every kept point is the (fpr, tpr) of "score > t" for some score t of the data.
        std::set<std::pair<double, double>> full;
        std::vector<float> sorted = p;
        std::sort(sorted.begin(), sorted.end());
        sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
        {
            std::vector<std::pair<float, int32_t>> v(p.size());
            for (size_t i = 0; i < p.size(); ++i) v[i] = {p[i], y[i]};
            std::sort(v.begin(), v.end());
            uint64_t le_neg = 0, le_pos = 0;
            const auto P = double(m.positives), N = double(m.negatives);
            for (size_t i = 0; i < v.size();) {
                size_t j = i;
                for (; j < v.size() && v[j].first == v[i].first; ++j) (v[j].second ? le_pos : le_neg)++;
                full.insert({(N - double(le_neg)) / N, (P - double(le_pos)) / P});
                i = j;
            }
        }
        double area = 0;
        for (size_t i = 0; i < c.fpr.size(); ++i) {
            if (i + 1 < c.fpr.size()) {
                CHECK(c.fpr[i] <= c.fpr[i + 1]);
                CHECK(c.tpr[i] <= c.tpr[i + 1]);
                area += (c.fpr[i + 1] - c.fpr[i]) * (c.tpr[i + 1] + c.tpr[i]) / 2;
            }
            // (1, 1) is "predict 1 always", below every score; the rest come from the data.
            if (i + 1 < c.fpr.size()) CHECK(full.count({c.fpr[i], c.tpr[i]}) == 1);
        }
        // The chords of a curve sampled every 1/500 of its length lose little area.
        CHECK(area == doctest::Approx(m.auc).epsilon(0.002));
    }
}

TEST_CASE("roc_svg: standalone picture with the AUC in the title") {
    roc_curve c;
    const auto m = eval_ok({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}, &c);
    const std::string svg = roc_svg(c, m, "pred<1>&.npy");
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(svg.find("<title>ROC curve, AUC 0.750000</title>") != std::string::npos);
    CHECK(svg.find("pred&lt;1&gt;&amp;.npy") != std::string::npos);
    CHECK(svg.find("pred<1>") == std::string::npos);
    CHECK(svg.find("<polyline") != std::string::npos);
    CHECK(svg.find("70.00,570.00") != std::string::npos);   // (0, 0)
    CHECK(svg.find("570.00,70.00") != std::string::npos);   // (1, 1)
    CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
}

TEST_CASE("radix_sort_u32 matches std::sort") {
    std::mt19937_64 rng(7);
    for (int bits : {1, 5, 8, 11, 12, 22, 31, 32}) {
        for (int64_t n : {0, 1, 2, 3, 100, 4097, 70000, 300001}) {
            const uint32_t mask = bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1;
            // Half the values come from a small pool, so duplicates are everywhere.
            std::vector<uint32_t> pool(16);
            for (auto& v : pool) v = uint32_t(rng()) & mask;
            std::vector<uint32_t> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
            for (auto& v : a) v = (rng() & 1) ? pool[rng() % pool.size()] : uint32_t(rng()) & mask;
            std::vector<uint32_t> want = a;
            std::sort(want.begin(), want.end());
            uint32_t* got = radix_sort_u32(a.data(), b.data(), n, bits);
            INFO("bits=" << bits << " n=" << n);
            CHECK(std::equal(want.begin(), want.end(), got));
        }
    }
    // A digit shared by every value is skipped, and the result is still sorted.
    std::vector<uint32_t> a(100000), b(100000);
    for (size_t i = 0; i < a.size(); ++i) a[i] = 0x7FF00000u | uint32_t((i * 2654435761u) & 0x7FF);
    std::vector<uint32_t> want = a;
    std::sort(want.begin(), want.end());
    CHECK(std::equal(want.begin(), want.end(), radix_sort_u32(a.data(), b.data(), int64_t(a.size()), 31)));
}

TEST_CASE("float_order_key orders floats like the numbers") {
    std::mt19937_64 rng(3);
    std::vector<float> f = {-std::numeric_limits<float>::infinity(), -1.0f, -0.0f, 0.0f, 1e-45f, 0.5f, 1.0f,
                            std::numeric_limits<float>::infinity()};
    std::uniform_real_distribution<float> u(-1000, 1000);
    for (int i = 0; i < 200000; ++i) f.push_back(i % 3 ? u(rng) : float(int(u(rng))));  // ties from integers
    std::vector<uint32_t> k(f.size()), scratch(f.size());
    for (size_t i = 0; i < f.size(); ++i) k[i] = float_order_key(std::bit_cast<uint32_t>(f[i]));
    const uint32_t* s = radix_sort_u32(k.data(), scratch.data(), int64_t(k.size()), 32);
    std::vector<float> want = f;
    std::sort(want.begin(), want.end());
    for (size_t i = 0; i < f.size(); ++i) {
        const uint32_t key = s[i];
        const uint32_t bits = (key & 0x80000000u) ? (key & 0x7FFFFFFFu) : ~key;
        const float got = std::bit_cast<float>(bits);
        if (got != want[i]) {  // -0 and +0 compare equal; std::sort may order them either way
            FAIL_CHECK("position " << i << ": " << got << " != " << want[i]);
            break;
        }
    }
}
