// Kernel dispatch: table building from the registry and the process-wide active table.
#include <array>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "kernels/dispatch.h"
#include "kernels/isa_select.h"

namespace dlrm::kernels {
namespace {

constexpr isa all_levels[] = {isa::ref, isa::generic, isa::avx2, isa::avx512, isa::neon};

std::string join_levels(const std::vector<isa>& levels) {
    std::string s;
    for (isa l : levels) {
        if (!s.empty()) s += ", ";
        s += isa_name(l);
    }
    return s;
}

// The levels a family falls back through, best first, starting at `level`.
std::vector<isa> fallback_chain(isa level) {
    static constexpr isa x86_chain[] = {isa::avx512, isa::avx2, isa::generic, isa::ref};
    static constexpr isa arm_chain[] = {isa::neon, isa::generic, isa::ref};
    std::vector<isa> chain;
    bool started = false;
    if (level == isa::neon) {
        for (isa l : arm_chain) chain.push_back(l);
        return chain;
    }
    for (isa l : x86_chain) {
        started = started || l == level;
        if (started) chain.push_back(l);
    }
    return chain;
}

void set_entry(kernel_table& t, const variant& v) {
    switch (v.fam) {
        case family::gemm_f32: t.gemm_f32 = *static_cast<const gemm_f32_kernel*>(v.kernel); return;
        case family::gemm_bf16: t.gemm_bf16 = *static_cast<const gemm_bf16_kernel*>(v.kernel); return;
        case family::gemm_u8s8: t.gemm_u8s8 = *static_cast<const gemm_u8s8_kernel*>(v.kernel); return;
        case family::embbag: t.embbag = *static_cast<const embbag_kernel*>(v.kernel); return;
        case family::interact_dot: t.interact_dot = *static_cast<const interact_dot_kernel*>(v.kernel); return;
        case family::dcn_cross: t.dcn_cross = *static_cast<const dcn_cross_kernel*>(v.kernel); return;
        case family::sigmoid: t.sigmoid = *static_cast<const sigmoid_kernel*>(v.kernel); return;
        case family::convert: t.convert = *static_cast<const convert_kernel*>(v.kernel); return;
    }
}

constexpr family all_families[] = {family::gemm_f32, family::gemm_bf16, family::gemm_u8s8, family::embbag,
                                   family::interact_dot, family::dcn_cross, family::sigmoid, family::convert};

}  // namespace

const char* isa_name(isa i) {
    switch (i) {
        case isa::ref: return "ref";
        case isa::generic: return "generic";
        case isa::avx2: return "avx2";
        case isa::avx512: return "avx512";
        case isa::neon: return "neon";
    }
    return "unknown";
}

const char* family_name(family f) {
    switch (f) {
        case family::gemm_f32: return "gemm_f32";
        case family::gemm_bf16: return "gemm_bf16";
        case family::gemm_u8s8: return "gemm_u8s8";
        case family::embbag: return "embbag";
        case family::interact_dot: return "interact_dot";
        case family::dcn_cross: return "dcn_cross";
        case family::sigmoid: return "sigmoid";
        case family::convert: return "convert";
    }
    return "unknown";
}

std::string missing_features(isa level, const cpu_features& f) {
    std::vector<std::pair<bool, const char*>> need;
    switch (level) {
        case isa::ref:
        case isa::generic: break;
        case isa::avx2: need = {{f.avx2, "avx2"}, {f.fma, "fma"}, {f.f16c, "f16c"}}; break;
        // The avx512 library is built with -mfma -mf16c too, so those are part of the level.
        case isa::avx512:
            need = {{f.avx512f, "avx512f"}, {f.avx512bw, "avx512bw"}, {f.avx512vl, "avx512vl"},
                    {f.avx512dq, "avx512dq"}, {f.avx2, "avx2"}, {f.fma, "fma"}, {f.f16c, "f16c"}};
            break;
        case isa::neon: need = {{f.neon, "neon"}}; break;
    }
    std::string s;
    for (const auto& [present, name] : need) {
        if (present) continue;
        if (!s.empty()) s += ' ';
        s += name;
    }
    return s;
}

std::vector<isa> levels_for(const cpu_features& f) {
    std::vector<isa> levels;
    for (isa l : all_levels)
        if (missing_features(l, f).empty()) levels.push_back(l);
    return levels;
}

result<kernel_table> build_table(isa level, const cpu_features& f, const std::vector<variant>& reg) {
    const std::string missing = missing_features(level, f);
    if (!missing.empty())
        return status::error(std::string("kernel table ") + isa_name(level) + ": this CPU lacks " + missing +
                             ": choose one of " + join_levels(levels_for(f)));
    kernel_table t{};
    t.level = level;
    const std::vector<isa> chain = fallback_chain(level);
    for (family fam : all_families) {
        const variant* pick = nullptr;
        for (isa l : chain) {
            for (const variant& v : reg) {
                if (v.fam == fam && v.level == l && v.available(f)) { pick = &v; break; }
            }
            if (pick) break;
        }
        if (!pick)  // the registry lacks even the ref line: a build defect, reported rather than crashed on
            return status::error(std::string("kernel table ") + isa_name(level) + ": family " + family_name(fam) +
                                 ": no variant this CPU can run: the registry needs a ref line per family");
        set_entry(t, *pick);
    }
    return t;
}

result<isa> parse_isa(const std::string& name) {
    for (isa l : all_levels)
        if (name == isa_name(l)) return l;
    return status::error("'" + name + "': unknown kernel table: expected one of ref, generic, avx2, avx512, neon");
}

result<isa> choose_isa(const char* dlrm_isa, const cpu_features& f) {
    const std::vector<isa> levels = levels_for(f);
    if (!dlrm_isa || !*dlrm_isa) return levels.back();
    const std::string value = dlrm_isa;
    auto parsed = parse_isa(value);
    if (!parsed.ok())
        return status::error("DLRM_ISA=" + value + ": unknown kernel table: expected one of ref, generic, avx2, "
                             "avx512, neon");
    const std::string missing = missing_features(*parsed, f);
    if (!missing.empty())
        return status::error("DLRM_ISA=" + value + ": this CPU lacks " + missing + ": choose one of " +
                             join_levels(levels));
    return *parsed;
}

result<kernel_table> table_for(isa level) { return build_table(level, cpu(), registry()); }

std::vector<isa> available_levels() { return levels_for(cpu()); }

namespace {

// Tables are built once per level and never change afterwards, so pointers to them stay valid;
// `current` is what active() hands out.
struct dispatch_state {
    std::mutex mu;
    std::array<std::optional<kernel_table>, std::size(all_levels)> tables;
    std::atomic<const kernel_table*> current{nullptr};
    status init;  // the error of the first choice (bad DLRM_ISA), if any

    result<const kernel_table*> table(isa level) {
        std::lock_guard<std::mutex> lock(mu);
        auto& slot = tables[size_t(level)];
        if (!slot) {
            auto t = table_for(level);
            if (!t.ok()) return t.error();
            slot = t.take();
        }
        return &*slot;
    }
};

dispatch_state& state() {
    // Function-local statics: thread-safe one-time construction and first choice.
    static dispatch_state s;
    static const bool chosen = [] {
        auto level = choose_isa(std::getenv("DLRM_ISA"), cpu());
        if (!level.ok()) {
            s.init = level.error();
            return false;
        }
        auto t = s.table(*level);
        if (!t.ok()) {
            s.init = t.error();
            return false;
        }
        s.current.store(*t);
        return true;
    }();
    (void)chosen;
    return s;
}

}  // namespace

result<const kernel_table*> active() {
    dispatch_state& s = state();
    if (const kernel_table* t = s.current.load()) return t;
    return s.init;
}

status force(isa level) {
    dispatch_state& s = state();
    auto t = s.table(level);
    if (!t.ok()) return t.error();
    s.current.store(*t);
    return {};
}

}  // namespace dlrm::kernels
