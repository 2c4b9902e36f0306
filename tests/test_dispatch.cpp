// Dispatch: the CPU probe, DLRM_ISA parsing and its error messages, table building with fallback,
// force(), and the registry's naming rules.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "kernels/dispatch.h"
#include "kernels/isa_select.h"
#include "kernels/ref/ref_kernels.h"

using namespace dlrm::kernels;

namespace {

cpu_features fake_x86(bool avx2, bool avx512) {
    cpu_features f;
    f.arch = "x86_64";
    f.sse42 = true;
    f.avx2 = f.fma = f.f16c = avx2;
    f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = f.avx512vnni = avx512;
    return f;
}

cpu_features fake_arm(bool neon) {
    cpu_features f;
    f.arch = "aarch64";
    f.neon = f.dotprod = neon;
    return f;
}

// The flags the kernel reports in /proc/cpuinfo for this architecture ("flags" on x86, "Features" on
// Arm); empty if unreadable or from another architecture (qemu-user shows the host's file).
std::set<std::string> proc_cpu_flags() {
#if defined(__aarch64__)
    const char* key = "Features";
#else
    const char* key = "flags";
#endif
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key, 0) == 0) {
            std::istringstream words(line.substr(line.find(':') + 1));
            std::set<std::string> flags;
            for (std::string w; words >> w;) flags.insert(w);
            return flags;
        }
    }
    return {};
}

}  // namespace

TEST_CASE("parse_isa accepts exactly the five level names") {
    for (isa l : {isa::ref, isa::generic, isa::avx2, isa::avx512, isa::neon}) {
        auto p = parse_isa(isa_name(l));
        REQUIRE(p.ok());
        CHECK(*p == l);
    }
    for (const char* bad : {"", "AVX512", "avx-512", "sse", "ref ", "native"}) {
        auto p = parse_isa(bad);
        REQUIRE_FALSE(p.ok());
        std::string want = "'";  // built by append: GCC 12 -O3 warns falsely (-Wrestrict) on "'" + string
        want.append(bad).append("': unknown kernel table: expected one of ref, generic, avx2, avx512, neon");
        CHECK(p.error().message() == want);
    }
}

TEST_CASE("DLRM_ISA: unset picks the best level; bad values fail with the value and the rule") {
    const cpu_features icx = fake_x86(true, true), hsw = fake_x86(true, false), arm = fake_arm(true);
    CHECK(*choose_isa(nullptr, icx) == isa::avx512);
    CHECK(*choose_isa("", hsw) == isa::avx2);
    CHECK(*choose_isa(nullptr, fake_x86(false, false)) == isa::generic);
    CHECK(*choose_isa(nullptr, arm) == isa::neon);
    CHECK(*choose_isa("ref", icx) == isa::ref);
    CHECK(*choose_isa("generic", arm) == isa::generic);

    auto unknown = choose_isa("foo", icx);
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message() ==
          "DLRM_ISA=foo: unknown kernel table: expected one of ref, generic, avx2, avx512, neon");

    auto no512 = choose_isa("avx512", hsw);
    REQUIRE_FALSE(no512.ok());
    CHECK(no512.error().message() ==
          "DLRM_ISA=avx512: this CPU lacks avx512f avx512bw avx512vl avx512dq: choose one of ref, generic, avx2");

    auto neon_on_x86 = choose_isa("neon", icx);
    REQUIRE_FALSE(neon_on_x86.ok());
    CHECK(neon_on_x86.error().message() == "DLRM_ISA=neon: this CPU lacks neon: choose one of ref, generic, avx2, avx512");

    auto avx2_on_arm = choose_isa("avx2", arm);
    REQUIRE_FALSE(avx2_on_arm.ok());
    CHECK(avx2_on_arm.error().message() == "DLRM_ISA=avx2: this CPU lacks avx2 fma f16c: choose one of ref, generic, neon");

    // The real CPU: whatever it is, the chosen default is the last available level.
    CHECK(*choose_isa(nullptr, cpu()) == available_levels().back());
}

TEST_CASE("levels: ref first, then generic, then what the CPU has") {
    const std::vector<isa> levels = available_levels();
    REQUIRE(levels.size() >= 2);
    CHECK(levels[0] == isa::ref);
    CHECK(levels[1] == isa::generic);
    CHECK(levels_for(fake_x86(true, true)) == std::vector<isa>{isa::ref, isa::generic, isa::avx2, isa::avx512});
    CHECK(levels_for(fake_x86(false, false)) == std::vector<isa>{isa::ref, isa::generic});
    CHECK(levels_for(fake_arm(true)) == std::vector<isa>{isa::ref, isa::generic, isa::neon});
    for (isa l : levels) CHECK(missing_features(l, cpu()).empty());
}

TEST_CASE("force(level) makes that table the active one; unsupported levels fail") {
    auto before = active();
    REQUIRE(before.ok());
    const isa original = before.value()->level;
    for (isa l : available_levels()) {
        INFO("level ", std::string(isa_name(l)));
        REQUIRE(force(l).ok());
        auto t = active();
        REQUIRE(t.ok());
        CHECK(t.value()->level == l);
        const kernel_table& k = *t.value();
        CHECK((k.gemm_f32.run && k.gemm_f32.pack && k.gemm_f32.packed_bytes));
        CHECK((k.gemm_bf16.run && k.gemm_u8s8.run && k.embbag.run && k.interact_dot.run && k.dcn_cross.run &&
               k.sigmoid.run && k.convert.f32_to_bf16 && k.convert.quantize_u8));
    }
    for (isa l : {isa::ref, isa::generic, isa::avx2, isa::avx512, isa::neon}) {
        if (missing_features(l, cpu()).empty()) continue;
        const dlrm::status s = force(l);
        REQUIRE_FALSE(s.ok());
        CHECK(s.message().find(std::string("kernel table ") + isa_name(l) + ": this CPU lacks ") == 0);
    }
    REQUIRE(force(original).ok());  // leave the table the run was started with
    CHECK(active().value()->level == original);
}

TEST_CASE("table building falls back per family to the best lower level the CPU supports") {
    static const sigmoid_kernel fake_avx2_sigmoid = {"sigmoid_f32__avx2", sigmoid_f32__ref.run};
    static const embbag_kernel fake_avx512_embbag = {"embbag_sum__avx512", embbag_sum__ref.run};
    static const embbag_kernel fake_avx512bf16_embbag = {"embbag_sum__avx512bf16", embbag_sum__ref.run};
    // Only the ref lines of the real registry, so the test does not depend on which variants exist.
    std::vector<variant> reg;
    for (const variant& v : registry())
        if (v.level == isa::ref) reg.push_back(v);
    reg.push_back({family::sigmoid, isa::avx2, fake_avx2_sigmoid.name, [](const cpu_features& f) { return f.avx2; },
                   &fake_avx2_sigmoid});
    // The first line of a level wins when available; an unavailable one is skipped for the next.
    reg.push_back({family::embbag, isa::avx512, fake_avx512bf16_embbag.name,
                   [](const cpu_features& f) { return f.avx512bf16; }, &fake_avx512bf16_embbag});
    reg.push_back({family::embbag, isa::avx512, fake_avx512_embbag.name, [](const cpu_features& f) { return f.avx512f; },
                   &fake_avx512_embbag});

    auto t512 = build_table(isa::avx512, fake_x86(true, true), reg);
    REQUIRE(t512.ok());
    CHECK(t512->level == isa::avx512);
    CHECK(std::string(t512->sigmoid.name) == "sigmoid_f32__avx2");    // avx512 has none: avx2's
    CHECK(std::string(t512->embbag.name) == "embbag_sum__avx512");    // no bf16 on this CPU
    CHECK(std::string(t512->gemm_f32.name) == "gemm_f32__ref");       // nothing above ref

    cpu_features with_bf16 = fake_x86(true, true);
    with_bf16.avx512bf16 = true;
    CHECK(std::string(build_table(isa::avx512, with_bf16, reg)->embbag.name) == "embbag_sum__avx512bf16");

    auto t2 = build_table(isa::avx2, fake_x86(true, true), reg);
    REQUIRE(t2.ok());
    CHECK(std::string(t2->embbag.name) == "embbag_sum__ref");  // never a higher level
    CHECK(std::string(t2->sigmoid.name) == "sigmoid_f32__avx2");

    auto tref = build_table(isa::ref, fake_x86(true, true), reg);
    CHECK(std::string(tref->sigmoid.name) == "sigmoid_f32__ref");

    auto bad = build_table(isa::avx512, fake_x86(true, false), reg);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message() ==
          "kernel table avx512: this CPU lacks avx512f avx512bw avx512vl avx512dq: choose one of ref, generic, avx2");

    std::vector<variant> no_ref;
    for (const variant& v : reg)
        if (v.fam != family::dcn_cross) no_ref.push_back(v);
    auto missing = build_table(isa::ref, cpu(), no_ref);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message().find("family dcn_cross") != std::string::npos);
}

TEST_CASE("registry: one ref per family, names unique and of the form op__isa[_tile]") {
    const std::regex form("[a-z0-9]+(_[a-z0-9]+)*__[a-z0-9]+(_[a-z0-9]+)*");
    std::set<std::string> names;
    std::set<family> with_ref;
    for (const variant& v : registry()) {
        const std::string name = v.name;
        INFO("variant ", name);
        CHECK(names.insert(name).second);
        CHECK(std::regex_match(name, form));
        // The part after "__" starts with the level's name (avx512vnni_8x32 is an avx512 variant).
        const std::string how = name.substr(name.find("__") + 2);
        CHECK(how.rfind(isa_name(v.level), 0) == 0);
        CHECK(bool(v.available));
        CHECK(v.kernel != nullptr);
        // The struct's own name is the registry's name (tables report it).
        CHECK(name == *static_cast<const char* const*>(v.kernel));
        if (v.level == isa::ref) {
            CHECK(with_ref.insert(v.fam).second);
            CHECK(v.available(cpu_features{}));  // the oracle runs anywhere
        }
    }
    CHECK(with_ref.size() == 8);
    CHECK(std::string(family_name(family::gemm_u8s8)) == "gemm_u8s8");
    CHECK(std::string(row_type_name(row_type::u4rw)) == "u4rw");
    CHECK(std::string(row_type_name(row_type::i8rw)) == "i8rw");
}

TEST_CASE("the CPU probe agrees with the operating system's view") {
    const cpu_features& f = cpu();
    MESSAGE("cpu: " << f.arch << " '" << f.brand << "': " << cpu_feature_list(f));
    const std::set<std::string> flags = proc_cpu_flags();
    if (flags.empty()) {
        MESSAGE("skipped the /proc/cpuinfo comparison: not readable here");
        return;
    }
#if defined(__x86_64__)
    CHECK(f.arch == "x86_64");
    // /proc/cpuinfo lists a flag only when the kernel also enabled its register state.
    const std::pair<bool, const char*> pairs[] = {
        {f.sse42, "sse4_2"},       {f.avx2, "avx2"},         {f.fma, "fma"},           {f.f16c, "f16c"},
        {f.avx512f, "avx512f"},    {f.avx512bw, "avx512bw"}, {f.avx512vl, "avx512vl"}, {f.avx512dq, "avx512dq"},
        {f.avx512vnni, "avx512_vnni"}, {f.avx512bf16, "avx512_bf16"},
    };
#elif defined(__aarch64__)
    CHECK(f.arch == "aarch64");
    const std::pair<bool, const char*> pairs[] = {
        {f.neon, "asimd"}, {f.dotprod, "asimddp"}, {f.arm_bf16, "bf16"}, {f.arm_fp16, "asimdhp"},
    };
#else
    const std::pair<bool, const char*> pairs[] = {{false, "none"}};
#endif
    for (const auto& [have, flag] : pairs) {
        INFO("flag ", std::string(flag));
        CHECK(have == (flags.count(flag) == 1));
    }
    // The feature list names exactly the present features.
    const std::string list = " " + cpu_feature_list(f) + " ";
    CHECK((list.find(" avx512f ") != std::string::npos) == f.avx512f);
    CHECK((list.find(" avx512bf16 ") != std::string::npos) == f.avx512bf16);
    CHECK((list.find(" neon ") != std::string::npos) == f.neon);
}
