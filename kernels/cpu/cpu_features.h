// What this CPU can run, detected once at run time (cpuid + xgetbv), and which
// SIMD code path the CPU kernels use.
//
// The build targets a portable baseline (x86-64-v2); faster code lives in
// *_avx2.cpp / *_avx512.cpp files compiled with those ISA flags. Such code may
// only run after cpu_path() (or cpu_features()) says the CPU *and* the OS
// (xgetbv: the OS saves the wider registers on context switch) support it.
//
// ALIGNERS_CPU=portable|avx2|avx512 forces a path (tests cover every path on
// one machine this way); asking for a path the machine cannot run is an error.
#pragma once
#include <string>

namespace aligners::cpu {

struct CpuFeatures {
    bool sse42 = false;
    bool avx = false;        // CPU + OS (YMM state enabled)
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avx512f = false;    // CPU + OS (ZMM/opmask state enabled)
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512dq = false;
    bool avx512bf16 = false;
    std::string vendor;      // "GenuineIntel", "AuthenticAMD", ...
    std::string brand;       // "AMD EPYC ...", empty when the CPU does not say
};

// Detected once; never changes.
const CpuFeatures& cpu_features();
// "sse4.2 avx avx2 fma f16c avx512f ..." (what is usable, space-separated).
std::string cpu_features_string();

// SIMD code paths of the CPU kernels, in increasing order of capability.
enum class CpuPath { portable = 0, avx2 = 1, avx512 = 2 };

const char* cpu_path_name(CpuPath path);
// Parses "portable", "avx2", "avx512"; throws aligners::Error otherwise.
CpuPath parse_cpu_path(const std::string& name);
// avx2 needs AVX2+FMA(+F16C); avx512 needs AVX-512 F/BW/VL/DQ plus the avx2 set.
bool cpu_path_supported(CpuPath path);
// The best path this machine supports.
CpuPath cpu_best_path();
// The path kernels use: $ALIGNERS_CPU when set (read once, at the first call;
// throws aligners::Error when it names an unknown or unsupported path), else
// cpu_best_path().
CpuPath cpu_path();

}  // namespace aligners::cpu
