#include "kernels/cpu/cpu_features.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "common/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define ALIGNERS_X86 1
#endif

namespace aligners::cpu {

#ifdef ALIGNERS_X86
// xgetbv without needing -mxsave on this (baseline-flag) file.
static uint64_t read_xcr0() {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (uint64_t(edx) << 32) | eax;
}

static CpuFeatures detect() {
    CpuFeatures f;
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
    unsigned max_leaf = a;
    char vendor[13];
    std::memcpy(vendor + 0, &b, 4);
    std::memcpy(vendor + 4, &d, 4);
    std::memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    f.vendor = vendor;

    __get_cpuid(1, &a, &b, &c, &d);
    f.sse42 = c & (1u << 20);
    bool fma = c & (1u << 12), f16c = c & (1u << 29), osxsave = c & (1u << 27), avx = c & (1u << 28);
    // The OS must have enabled saving of the wider register state: XCR0 bits
    // 1,2 (SSE, AVX) for YMM; plus 5,6,7 (opmask, ZMM_Hi256, Hi16_ZMM) for ZMM.
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    bool os_ymm = (xcr0 & 0x6) == 0x6;
    bool os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;
    f.avx = avx && os_ymm;
    f.fma = fma && f.avx;
    f.f16c = f16c && f.avx;
    if (max_leaf >= 7) {
        __get_cpuid_count(7, 0, &a, &b, &c, &d);
        f.avx2 = (b & (1u << 5)) && f.avx;
        f.avx512f = (b & (1u << 16)) && os_zmm;
        f.avx512dq = (b & (1u << 17)) && f.avx512f;
        f.avx512bw = (b & (1u << 30)) && f.avx512f;
        f.avx512vl = (b & (1u << 31)) && f.avx512f;
        __get_cpuid_count(7, 1, &a, &b, &c, &d);
        f.avx512bf16 = (a & (1u << 5)) && f.avx512f;
    }
    if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
        char brand[49] = {};
        for (unsigned i = 0; i < 3; ++i) {
            __get_cpuid(0x80000002 + i, &a, &b, &c, &d);
            std::memcpy(brand + 16 * i + 0, &a, 4);
            std::memcpy(brand + 16 * i + 4, &b, 4);
            std::memcpy(brand + 16 * i + 8, &c, 4);
            std::memcpy(brand + 16 * i + 12, &d, 4);
        }
        std::string s = brand;
        while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
        size_t start = s.find_first_not_of(' ');
        f.brand = start == std::string::npos ? "" : s.substr(start);
    }
    return f;
}
#else
static CpuFeatures detect() { return CpuFeatures{}; }
#endif

const CpuFeatures& cpu_features() {
    static const CpuFeatures features = detect();
    return features;
}

std::string cpu_features_string() {
    const CpuFeatures& f = cpu_features();
    std::string s;
    auto add = [&](bool on, const char* name) {
        if (!on) return;
        if (!s.empty()) s += ' ';
        s += name;
    };
    add(f.sse42, "sse4.2");
    add(f.avx, "avx");
    add(f.avx2, "avx2");
    add(f.fma, "fma");
    add(f.f16c, "f16c");
    add(f.avx512f, "avx512f");
    add(f.avx512bw, "avx512bw");
    add(f.avx512vl, "avx512vl");
    add(f.avx512dq, "avx512dq");
    add(f.avx512bf16, "avx512bf16");
    return s.empty() ? "none" : s;
}

const char* cpu_path_name(CpuPath path) {
    switch (path) {
        case CpuPath::portable: return "portable";
        case CpuPath::avx2: return "avx2";
        case CpuPath::avx512: return "avx512";
    }
    return "?";
}

CpuPath parse_cpu_path(const std::string& name) {
    if (name == "portable") return CpuPath::portable;
    if (name == "avx2") return CpuPath::avx2;
    if (name == "avx512") return CpuPath::avx512;
    throw Error("unknown CPU path '" + name + "' (expected portable, avx2 or avx512)");
}

bool cpu_path_supported(CpuPath path) {
    const CpuFeatures& f = cpu_features();
    bool avx2 = f.avx2 && f.fma && f.f16c;
    switch (path) {
        case CpuPath::portable: return true;
        case CpuPath::avx2: return avx2;
        case CpuPath::avx512: return avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
    }
    return false;
}

CpuPath cpu_best_path() {
    static const CpuPath best = cpu_path_supported(CpuPath::avx512) ? CpuPath::avx512
                                : cpu_path_supported(CpuPath::avx2) ? CpuPath::avx2
                                                                     : CpuPath::portable;
    return best;
}

// Resolved once: the first call reads $ALIGNERS_CPU. An invalid value throws
// on every call (so every kernel entry reports it), never silently falls back.
CpuPath cpu_path() {
    struct Resolved {
        CpuPath path = CpuPath::portable;
        std::string error;
    };
    static const Resolved resolved = [] {
        Resolved r;
        const char* env = std::getenv("ALIGNERS_CPU");
        if (!env || !*env || std::strcmp(env, "auto") == 0) {
            r.path = cpu_best_path();
        } else if (std::strcmp(env, "portable") != 0 && std::strcmp(env, "avx2") != 0 &&
                   std::strcmp(env, "avx512") != 0) {
            r.error = std::string("ALIGNERS_CPU=") + env + ": unknown CPU path (expected auto, portable, avx2 or avx512)";
        } else {
            r.path = parse_cpu_path(env);
            if (!cpu_path_supported(r.path))
                r.error = std::string("ALIGNERS_CPU=") + env + ": this CPU cannot run that path (usable features: " +
                          cpu_features_string() + ")";
        }
        return r;
    }();
    if (!resolved.error.empty()) throw Error(resolved.error);
    return resolved.path;
}

}  // namespace aligners::cpu
