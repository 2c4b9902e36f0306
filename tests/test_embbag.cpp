// Embedding-bag kernels: every registered variant the CPU can run must be bit-exact (memcmp) against
// the ref (api.h fixes the summation order), and the ref is checked against an independent
// computation: rows dequantised by the FACTS.md §3 formula in double and summed in double.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/aligned_buffer.h"
#include "kernels/dispatch.h"
#include "kernels/ref/ref_kernels.h"

using namespace dlrm::kernels;

namespace {

const int64_t dims[] = {1, 2, 7, 15, 16, 17, 31, 32, 33, 40, 64, 85, 128, 163, 256};
constexpr row_type all_types[] = {row_type::f32, row_type::f16, row_type::bf16, row_type::i8rw, row_type::u4rw};
constexpr double f_eps = 1.0 / (1 << 24);

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

// Independent half-precision helpers (value arithmetic in double, no bit tricks shared with the ref).
double half_value(uint16_t h) {
    const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
    const double mag = e == 0 ? std::ldexp(double(m), -24) : std::ldexp(1.0 + m / 1024.0, e - 15);
    return (h & 0x8000) ? -mag : mag;
}
// Nearest half (ties to even) for |x| < 65504; returns its bits.
uint16_t half_bits(double x) {
    const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    x = std::fabs(x);
    if (x < std::ldexp(1.0, -14)) return uint16_t(sign | uint16_t(std::nearbyint(std::ldexp(x, 24))));
    int e;
    std::frexp(x, &e);                                        // x in [2^(e−1), 2^e)
    double q = std::nearbyint(std::ldexp(x, 11 - e));         // 11 significant bits
    if (q == 2048) { q = 1024; ++e; }
    return uint16_t(sign | uint16_t((e - 1 + 15) << 10) | uint16_t(q - 1024));
}
double bf16_value(uint16_t h) {
    uint32_t u = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// One table: rows of random content in the layout of `type`, plus each row's exact values.
struct table_data {
    row_type type;
    int64_t num_rows, dim;
    std::vector<uint8_t> bytes;          // num_rows · row_bytes, stored 1 byte past a 64-byte boundary
    std::vector<std::vector<double>> v;  // the exact dequantised value of every element
};

// FACTS.md §3 4-bit quantizer: bias = fp16(min), scale = fp16((max − bias)/15) (1 if the range is 0),
// q = clamp(round_half_even((x − bias)/scale), 0, 15), element 2k in the low nibble of byte k.
void quantize_u4_row(const std::vector<float>& x, uint8_t* row) {
    const int64_t D = int64_t(x.size());
    float lo = x[0], hi = x[0];
    for (float f : x) { lo = std::min(lo, f); hi = std::max(hi, f); }
    const uint16_t bias_h = half_bits(lo);
    const float bias = float(half_value(bias_h));
    const float range = hi - bias;
    const uint16_t scale_h = range == 0.0f ? half_bits(1.0) : half_bits(double(range / 15.0f));
    const float scale = float(half_value(scale_h));
    const int64_t payload = (D + 1) / 2;
    std::memset(row, 0, size_t(payload));
    for (int64_t d = 0; d < D; ++d) {
        float q = std::nearbyint((x[size_t(d)] - bias) / scale);
        q = std::min(15.0f, std::max(0.0f, q));
        row[d / 2] |= uint8_t(int(q) << ((d & 1) * 4));
    }
    std::memcpy(row + payload, &scale_h, 2);
    std::memcpy(row + payload + 2, &bias_h, 2);
}

table_data make_table(row_type type, int64_t num_rows, int64_t dim, std::mt19937& rng) {
    table_data t{type, num_rows, dim, {}, {}};
    const size_t rb = row_bytes(type, dim);
    t.bytes.assign(size_t(num_rows) * rb, 0);
    t.v.assign(size_t(num_rows), std::vector<double>(size_t(dim)));
    std::uniform_real_distribution<float> real(-2.0f, 2.0f), pos(0.001f, 0.05f);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int64_t r = 0; r < num_rows; ++r) {
        uint8_t* row = t.bytes.data() + size_t(r) * rb;
        std::vector<double>& v = t.v[size_t(r)];
        switch (type) {
            case row_type::f32:
                for (int64_t d = 0; d < dim; ++d) {
                    const float f = real(rng);
                    std::memcpy(row + 4 * d, &f, 4);
                    v[size_t(d)] = f;
                }
                break;
            case row_type::f16:
                for (int64_t d = 0; d < dim; ++d) {
                    // Include subnormal halves now and then: they must convert exactly too.
                    const uint16_t h = (d % 11 == 5) ? uint16_t(byte(rng) | 0x8000 * (d & 1)) : half_bits(real(rng));
                    std::memcpy(row + 2 * d, &h, 2);
                    v[size_t(d)] = half_value(h);
                }
                break;
            case row_type::bf16:
                for (int64_t d = 0; d < dim; ++d) {
                    const float f = real(rng);
                    uint32_t u;
                    std::memcpy(&u, &f, 4);
                    const uint16_t h = uint16_t(u >> 16);  // truncation: any bf16 pattern is a valid row
                    std::memcpy(row + 2 * d, &h, 2);
                    v[size_t(d)] = bf16_value(h);
                }
                break;
            case row_type::i8rw: {
                const float scale = pos(rng), bias = real(rng);
                for (int64_t d = 0; d < dim; ++d) row[d] = uint8_t(byte(rng));
                std::memcpy(row + dim, &scale, 4);
                std::memcpy(row + dim + 4, &bias, 4);
                for (int64_t d = 0; d < dim; ++d) v[size_t(d)] = double(scale) * row[d] + double(bias);
                break;
            }
            case row_type::u4rw: {
                std::vector<float> x(static_cast<size_t>(dim));
                for (auto& f : x) f = real(rng);
                if (r % 17 == 3) std::fill(x.begin(), x.end(), x[0]);  // zero range: scale 1
                quantize_u4_row(x, row);
                const int64_t payload = (dim + 1) / 2;
                uint16_t sh, bh;
                std::memcpy(&sh, row + payload, 2);
                std::memcpy(&bh, row + payload + 2, 2);
                for (int64_t d = 0; d < dim; ++d) {
                    const int q = (row[d / 2] >> ((d & 1) * 4)) & 0xF;
                    v[size_t(d)] = half_value(sh) * q + half_value(bh);
                }
                break;
            }
        }
    }
    return t;
}

// Bytes copied to 1 byte past a 64-byte boundary: rows need no alignment.
struct misaligned_bytes {
    std::vector<uint8_t> store;
    size_t begin = 0;
    explicit misaligned_bytes(const std::vector<uint8_t>& src) {
        store.assign(src.size() + 128, 0);
        while (reinterpret_cast<uintptr_t>(&store[begin]) % 64 != 0) ++begin;
        ++begin;
        if (!src.empty()) std::memcpy(&store[begin], src.data(), src.size());
    }
    const uint8_t* data() const { return store.data() + begin; }
};

// Ids (and offsets) one int32 past a 64-byte boundary.
struct misaligned_ints {
    std::vector<int32_t> store;
    size_t begin = 0;
    explicit misaligned_ints(const std::vector<int32_t>& src) {
        store.assign(src.size() + 32, 0);
        while (reinterpret_cast<uintptr_t>(&store[begin]) % 64 != 0) ++begin;
        ++begin;
        std::copy(src.begin(), src.end(), store.begin() + std::ptrdiff_t(begin));
    }
    const int32_t* data() const { return store.data() + begin; }
};

// How a table's bags are given.
struct bag_spec {
    bool use_offsets;
    int32_t bag_size;               // fixed bags
    std::vector<int32_t> lengths;   // variable bags (may contain 0 and 100)
};

struct table_input {
    std::vector<int32_t> ids, offsets;
    misaligned_bytes rows;
    misaligned_ints ids_m, offsets_m;
};

constexpr uint32_t sentinel_bits = 0x7FA5A5A5u;

// Runs one embbag kernel on the given tables; returns dst including its sentinel padding.
struct call {
    int64_t batch, dim, dst_ld;
    std::vector<embbag_table_args> args;
    size_t begin = 0, total = 0;

    std::vector<float> run(const embbag_kernel& k) const {
        std::vector<float> store(total);
        for (auto& f : store) std::memcpy(&f, &sentinel_bits, 4);
        embbag_args a{batch, dim, int64_t(args.size()), args.data(), store.data() + begin, dst_ld};
        k.run(a);
        return store;
    }
};

bool sentinel(float f) { return std::memcmp(&f, &sentinel_bits, 4) == 0; }

struct scenario {
    std::vector<table_data> tables;
    std::vector<bag_spec> bags;
    std::vector<table_input> inputs;
    call c;
};

scenario make_scenario(const std::vector<row_type>& types, int64_t dim, int64_t batch,
                       const std::vector<bag_spec>& bags, std::mt19937& rng) {
    scenario s;
    const int64_t num_rows = 97;
    s.bags = bags;
    for (size_t t = 0; t < types.size(); ++t) s.tables.push_back(make_table(types[t], num_rows, dim, rng));
    std::uniform_int_distribution<int32_t> id(0, int32_t(num_rows - 1));
    s.inputs.reserve(types.size());
    for (size_t t = 0; t < types.size(); ++t) {
        const bag_spec& b = bags[t];
        std::vector<int32_t> ids, offsets;
        int64_t n = 0;
        if (b.use_offsets) {
            offsets.push_back(0);
            for (int64_t i = 0; i < batch; ++i) offsets.push_back(int32_t(n += b.lengths[size_t(i) % b.lengths.size()]));
        } else {
            n = batch * b.bag_size;
        }
        for (int64_t i = 0; i < n; ++i) ids.push_back(i == 0 ? 0 : i == 1 ? int32_t(num_rows - 1) : id(rng));
        s.inputs.push_back(table_input{ids, offsets, misaligned_bytes(s.tables[t].bytes), misaligned_ints(ids),
                                       misaligned_ints(offsets)});
    }
    s.c.batch = batch;
    s.c.dim = dim;
    s.c.dst_ld = int64_t(types.size()) * dim + 3;  // a gap after each sample's outputs
    for (size_t t = 0; t < types.size(); ++t) {
        const table_input& in = s.inputs[t];
        s.c.args.push_back(embbag_table_args{in.rows.data(), num_rows, types[t], in.ids_m.data(),
                                             bags[t].use_offsets ? in.offsets_m.data() : nullptr,
                                             bags[t].use_offsets ? 0 : bags[t].bag_size});
    }
    // dst starts 17 floats into its buffer (not 16- or 64-byte aligned), sentinels before and after.
    s.c.begin = 17;
    s.c.total = size_t(s.c.begin + batch * s.c.dst_ld + 32);
    return s;
}

std::vector<bag_spec> bag_variety(size_t n_tables) {
    // Fixed bags of 0, 1, 3 and 100 ids, and variable bags with empty ones and a bag of 100.
    const std::vector<bag_spec> menu = {
        {false, 1, {}}, {true, 0, {3, 0, 1, 100, 2, 0, 7}}, {false, 3, {}}, {false, 0, {}}, {false, 100, {}},
        {true, 0, {0, 5, 1}},
    };
    std::vector<bag_spec> out;
    for (size_t t = 0; t < n_tables; ++t) out.push_back(menu[t % menu.size()]);
    return out;
}

}  // namespace

TEST_CASE("embbag ref matches rows dequantised by the FACTS.md formula and summed in double") {
    const unsigned seed = 4242;
    std::mt19937 rng(seed);
    for (row_type type : all_types) {
        for (int64_t dim : {1, 7, 16, 33, 128}) {
            INFO("type ", row_type_name(type), " dim=", dim, " seed=", seed);
            const int64_t batch = 7;
            const std::vector<bag_spec> bags = {{true, 0, {3, 0, 1, 100, 2, 0, 7}}};
            scenario s = make_scenario({type}, dim, batch, bags, rng);
            const std::vector<float> got = s.c.run(embbag_sum__ref);
            const table_input& in = s.inputs[0];
            for (int64_t b = 0; b < batch; ++b) {
                for (int64_t d = 0; d < dim; ++d) {
                    double exact = 0, abs_sum = 0;
                    const int32_t n = in.offsets[size_t(b + 1)] - in.offsets[size_t(b)];
                    for (int32_t j = in.offsets[size_t(b)]; j < in.offsets[size_t(b + 1)]; ++j) {
                        const double v = s.tables[0].v[size_t(in.ids[size_t(j)])][size_t(d)];
                        exact += v;
                        abs_sum += std::fabs(v);
                    }
                    // Each value is rounded once to fp32 (fmaf / exact conversion), then n sequential
                    // fp32 additions: |error| ≤ (n + 1)·u·Σ|v|.
                    const double tol = double(n + 1) * f_eps * abs_sum;
                    const float g = got[size_t(s.c.begin + b * s.c.dst_ld + d)];
                    REQUIRE(std::fabs(double(g) - exact) <= tol);
                    if (n == 0) REQUIRE(g == 0.0f);
                }
            }
        }
    }
}

TEST_CASE("embbag ref dequantises i8rw with one rounding (fmaf)") {
    // A single-id bag returns the dequantised row itself: exactly float(scale·q + bias), the product
    // not rounded on its own. scale·255 needs 31 bits, so rounding it first would give another answer.
    const float scale = 1.0f + 3.0f / (1 << 23), bias = std::ldexp(-0.49f, -16);
    std::vector<uint8_t> row(size_t(row_bytes(row_type::i8rw, 2)));
    row[0] = 255;
    row[1] = 77;
    std::memcpy(&row[2], &scale, 4);
    std::memcpy(&row[6], &bias, 4);
    const int32_t ids[] = {0};
    embbag_table_args tab{row.data(), 1, row_type::i8rw, ids, nullptr, 1};
    float dst[2];
    embbag_sum__ref.run(embbag_args{1, 2, 1, &tab, dst, 2});
    for (int d = 0; d < 2; ++d) CHECK(dst[d] == float(double(scale) * row[size_t(d)] + double(bias)));
    volatile float product = scale * 255.0f;  // volatile: rounded on its own, never fused
    CHECK(dst[0] != product + bias);          // the case really tells one rounding from two
}

TEST_CASE("embbag variants are bit-exact against the ref") {
    const unsigned seed = 31337;
    std::mt19937 rng(seed);
    for (const embbag_kernel* k : runnable<embbag_kernel>(family::embbag)) {
        for (int64_t dim : dims) {
            // All five row types in one fused call, each with different bag shapes...
            std::vector<std::vector<row_type>> groups = {{all_types, all_types + 5}};
            // ...and each type alone, fixed and variable bags.
            for (row_type t : all_types) groups.push_back({t});
            for (const auto& types : groups) {
                for (int64_t batch : {1, 5, 16}) {
                    std::vector<std::vector<bag_spec>> bag_sets = {bag_variety(types.size())};
                    if (types.size() == 1) bag_sets.push_back({{true, 0, {0, 100, 2, 0, 9}}});
                    for (const auto& bags : bag_sets) {
                        INFO("variant ", std::string(k->name), " dim=", dim, " batch=", batch, " tables=", types.size(),
                             " first type ", row_type_name(types[0]), " seed=", seed);
                        scenario s = make_scenario(types, dim, batch, bags, rng);
                        const std::vector<float> got = s.c.run(*k), want = s.c.run(embbag_sum__ref);
                        REQUIRE(got.size() == want.size());
                        bool outputs_equal = true, sentinels_ok = true;
                        for (size_t i = 0; i < got.size(); ++i) {
                            const int64_t rel = int64_t(i) - int64_t(s.c.begin);
                            const bool is_output = rel >= 0 && rel < batch * s.c.dst_ld &&
                                                   rel % s.c.dst_ld < int64_t(types.size()) * dim;
                            if (is_output) outputs_equal &= std::memcmp(&got[i], &want[i], 4) == 0;
                            else sentinels_ok &= sentinel(got[i]);
                        }
                        CHECK_MESSAGE(outputs_equal, std::string(k->name), ": output differs from the ref");
                        CHECK_MESSAGE(sentinels_ok, std::string(k->name), ": wrote outside dst");
                    }
                }
            }
        }
    }
}

TEST_CASE("embbag: a one-id bag of −0.0 values pools to +0.0 in every variant, as the ref's 0 + v") {
    // One-hot bags may be stored without the sum (a kernel can write the row's value directly);
    // the sum starts from +0.0, and +0.0 + −0.0 = +0.0, so the sign of a −0.0 must not survive.
    for (int64_t dim : {33, 128}) {
        for (row_type type : all_types) {
            std::vector<uint8_t> row(row_bytes(type, dim), 0);
            const uint16_t h_minus_zero = 0x8000, h_minus_one = 0xBC00;  // fp16 / bf16 −0.0, fp16 −1.0
            const float minus_zero = -0.0f, minus_one = -1.0f;
            switch (type) {
                case row_type::f32:
                    for (int64_t d = 0; d < dim; ++d) std::memcpy(&row[size_t(4 * d)], &minus_zero, 4);
                    break;
                case row_type::f16:
                case row_type::bf16:
                    for (int64_t d = 0; d < dim; ++d) std::memcpy(&row[size_t(2 * d)], &h_minus_zero, 2);
                    break;
                case row_type::i8rw:  // q = 0: fmaf(−1, 0, −0) = −0
                    std::memcpy(&row[size_t(dim)], &minus_one, 4);
                    std::memcpy(&row[size_t(dim) + 4], &minus_zero, 4);
                    break;
                case row_type::u4rw:
                    std::memcpy(&row[size_t((dim + 1) / 2)], &h_minus_one, 2);
                    std::memcpy(&row[size_t((dim + 1) / 2) + 2], &h_minus_zero, 2);
                    break;
            }
            const int32_t ids[3] = {0, 0, 0};
            const embbag_table_args tab{row.data(), 1, type, ids, nullptr, 1};
            for (const embbag_kernel* k : runnable<embbag_kernel>(family::embbag)) {
                std::vector<float> dst(size_t(3 * dim), 1.0f);
                k->run(embbag_args{3, dim, 1, &tab, dst.data(), dim});
                bool all_plus_zero = true;
                for (float f : dst) all_plus_zero &= std::memcmp(&f, "\0\0\0\0", 4) == 0;
                CHECK_MESSAGE(all_plus_zero, std::string(k->name), " ", row_type_name(type), " dim=", dim,
                              ": a −0.0 value kept its sign");
            }
        }
    }
}

TEST_CASE("embbag: stream_dst (non-temporal stores) writes the same bytes as the ref, aligned or not") {
    // The hint only changes how dst is written. A 64-byte aligned dst with dst_ld a multiple of 16
    // floats puts every row's output on a line boundary (the non-temporal path); offset by one float
    // none is (the plain path). Fixed bags of 1 (the loop that uses the hint) and of 3.
    const unsigned seed = 2718;
    std::mt19937 rng(seed);
    for (const embbag_kernel* k : runnable<embbag_kernel>(family::embbag)) {
        for (int64_t dim : {33, 128}) {
            for (int32_t bag : {1, 3}) {
                const int64_t batch = 9, ntab = 5, ld = (ntab * dim + 15) / 16 * 16 + 16;  // a multiple of 16
                std::vector<table_data> tables;
                std::vector<std::vector<int32_t>> ids(static_cast<size_t>(ntab));
                std::vector<embbag_table_args> args;
                for (int64_t t = 0; t < ntab; ++t) {
                    tables.push_back(make_table(all_types[t], 97, dim, rng));
                    std::uniform_int_distribution<int32_t> id(0, 96);
                    for (int64_t i = 0; i < batch * bag; ++i) ids[size_t(t)].push_back(id(rng));
                    args.push_back({tables.back().bytes.data(), 97, all_types[t], ids[size_t(t)].data(), nullptr, bag});
                }
                for (int64_t shift : {0, 1}) {
                    INFO(std::string(k->name), " dim=", dim, " bag=", bag, " dst shifted by ", shift, " float(s), seed=", seed);
                    const size_t n = size_t(batch * ld + 64);
                    dlrm::aligned_buffer<float> got(n), want(n);  // 64-byte aligned
                    for (size_t i = 0; i < n; ++i) {
                        std::memcpy(&got[i], &sentinel_bits, 4);
                        std::memcpy(&want[i], &sentinel_bits, 4);
                    }
                    embbag_args a{batch, dim, ntab, args.data(), got.data() + shift, ld, true};
                    k->run(a);
                    a.dst = want.data() + shift;
                    a.stream_dst = false;
                    embbag_sum__ref.run(a);
                    CHECK(std::memcmp(got.data(), want.data(), n * 4) == 0);
                }
            }
        }
    }
}
