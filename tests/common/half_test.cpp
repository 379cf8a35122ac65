// common/half.h against hand-computed bit patterns, against torch's own casts
// (tests/fixtures/safetensors/conversions.safetensors, written by
// tools/oracle/make_safetensors_fixtures.py), and exhaustively over every
// 8- and 16-bit code.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "common/half.h"
#include "test_util.h"
#include "weights/safetensors.h"

using namespace aligners;

namespace {
float bits(uint32_t u) { return f32_from_bits(u); }
bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || f32_bits(a) == f32_bits(b); }
}  // namespace

TEST_SUITE("half") {

TEST_CASE("bf16 hand-computed") {
    CHECK(f32_to_bf16(1.0f) == 0x3F80);
    CHECK(f32_to_bf16(-2.0f) == 0xC000);
    CHECK(f32_to_bf16(bits(0x3F808000)) == 0x3F80);  // tie, even stays
    CHECK(f32_to_bf16(bits(0x3F818000)) == 0x3F82);  // tie, odd rounds up to even
    CHECK(f32_to_bf16(bits(0x3F808001)) == 0x3F81);  // just above the tie
    CHECK(f32_to_bf16(bits(0x3F807FFF)) == 0x3F80);  // just below
    CHECK(f32_to_bf16(bits(0x7F7FFFFF)) == 0x7F80);  // max float rounds to inf
    CHECK(f32_to_bf16(INFINITY) == 0x7F80);
    CHECK(f32_to_bf16(-0.0f) == 0x8000);
    CHECK(f32_to_bf16(bits(0x00010000)) == 0x0001);  // subnormals keep their top bits
    uint16_t nan = f32_to_bf16(NAN);
    CHECK((nan & 0x7F80) == 0x7F80);
    CHECK((nan & 0x7F) != 0);
    CHECK((f32_to_bf16(bits(0x7F800001)) & 0x7F) != 0);  // a signalling NaN does not become inf
    CHECK(bf16_to_f32(0x3F80) == 1.0f);
    CHECK(bf16_to_f32(0xC049) == bits(0xC0490000));
}

TEST_CASE("f16 hand-computed") {
    CHECK(f32_to_f16(1.0f) == 0x3C00);
    CHECK(f32_to_f16(-2.0f) == 0xC000);
    CHECK(f32_to_f16(0.1f) == 0x2E66);
    CHECK(f32_to_f16(65504.0f) == 0x7BFF);
    CHECK(f32_to_f16(65519.99f) == 0x7BFF);
    CHECK(f32_to_f16(65520.0f) == 0x7C00);  // tie between 65504 and 65536 (inf): even is inf
    CHECK(f32_to_f16(std::ldexp(1.0f, -14)) == 0x0400);  // smallest normal
    CHECK(f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
    CHECK(f32_to_f16(std::ldexp(1.0f, -25)) == 0x0000);  // tie to even: 0
    CHECK(f32_to_f16(std::ldexp(1.5f, -25)) == 0x0001);
    CHECK(f32_to_f16(std::ldexp(3.0f, -25)) == 0x0002);  // 1.5 units, tie to even 2
    CHECK(f32_to_f16(std::ldexp(1023.5f, -24)) == 0x0400);  // subnormal rounds up into the smallest normal
    CHECK(f32_to_f16(-0.0f) == 0x8000);
    CHECK(f32_to_f16(1e-30f) == 0x0000);
    CHECK(f32_to_f16(-INFINITY) == 0xFC00);
    CHECK(f32_to_f16(NAN) == 0x7E00);
    CHECK(f16_to_f32(0x3C00) == 1.0f);
    CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));
    CHECK(f16_to_f32(0x83FF) == -std::ldexp(1023.0f, -24));
    CHECK(f16_to_f32(0x7C00) == INFINITY);
    CHECK(std::isnan(f16_to_f32(0x7C01)));
}

TEST_CASE("fp8 hand-computed") {
    CHECK(f32_to_f8e4m3(1.0f) == 0x38);
    CHECK(f32_to_f8e4m3(-0.5f) == 0xB0);
    CHECK(f32_to_f8e4m3(448.0f) == 0x7E);
    CHECK(f32_to_f8e4m3(464.0f) == 0x7E);  // saturates (torch)
    CHECK(f32_to_f8e4m3(1e9f) == 0x7E);
    CHECK(f32_to_f8e4m3(-INFINITY) == 0xFE);
    CHECK(f32_to_f8e4m3(NAN) == 0x7F);
    CHECK(f32_to_f8e4m3(std::ldexp(1.0f, -9)) == 0x01);
    CHECK(f32_to_f8e4m3(std::ldexp(1.0f, -10)) == 0x00);  // tie to even
    CHECK(f32_to_f8e4m3(std::ldexp(1.0f, -6)) == 0x08);   // smallest normal
    CHECK(f8e4m3_to_f32(0x7E) == 448.0f);
    CHECK(std::isnan(f8e4m3_to_f32(0xFF)));
    CHECK(f8e4m3_to_f32(0x78) == 256.0f);  // exponent 15 is finite in e4m3fn
    CHECK(f8e4m3_to_f32(0x81) == -std::ldexp(1.0f, -9));

    CHECK(f32_to_f8e5m2(1.0f) == 0x3C);
    CHECK(f32_to_f8e5m2(57344.0f) == 0x7B);
    CHECK(f32_to_f8e5m2(61440.0f) == 0x7C);  // tie between max and inf: even is inf
    CHECK(f32_to_f8e5m2(std::ldexp(1.0f, -16)) == 0x01);
    CHECK(f32_to_f8e5m2(INFINITY) == 0x7C);
    CHECK(f8e5m2_to_f32(0x7C) == INFINITY);
    CHECK(f8e5m2_to_f32(0xC0) == -2.0f);
}

TEST_CASE("widening every 8- and 16-bit code matches the formula") {
    auto reference = [](uint32_t code, int exp_bits, int man_bits, bool ieee_specials) {
        int bias = (1 << (exp_bits - 1)) - 1;
        uint32_t sign = code >> (exp_bits + man_bits);
        uint32_t e = (code >> man_bits) & ((1u << exp_bits) - 1);
        uint32_t m = code & ((1u << man_bits) - 1);
        double v;
        if (ieee_specials && e == (1u << exp_bits) - 1) v = m ? NAN : INFINITY;
        else if (!ieee_specials && e == (1u << exp_bits) - 1 && m == (1u << man_bits) - 1) v = NAN;
        else if (e == 0) v = std::ldexp(double(m), 1 - bias - man_bits);
        else v = std::ldexp(1.0 + double(m) / double(1u << man_bits), int(e) - bias);
        return float(sign ? -v : v);
    };
    int bad = 0;  // counted, not CHECKed one by one: 262,144 assertions would dominate the run time
    for (uint32_t c = 0; c < 65536; ++c) {
        float h = f16_to_f32(uint16_t(c)), b = bf16_to_f32(uint16_t(c));
        bad += !same(h, reference(c, 5, 10, true));
        bad += !same(b, reference(c, 8, 7, true));
        if (!std::isnan(h)) bad += f32_to_f16(h) != c;  // narrowing is exact on representable values
        if (!std::isnan(b)) bad += f32_to_bf16(b) != c;
    }
    CHECK(bad == 0);
    for (uint32_t c = 0; c < 256; ++c) {
        CHECK(same(f8e5m2_to_f32(uint8_t(c)), reference(c, 5, 2, true)));
        CHECK(same(f8e4m3_to_f32(uint8_t(c)), reference(c, 4, 3, false)));
        float a = f8e4m3_to_f32(uint8_t(c)), b = f8e5m2_to_f32(uint8_t(c));
        if (!std::isnan(a)) CHECK(f32_to_f8e4m3(a) == c);
        if (!std::isnan(b)) CHECK(f32_to_f8e5m2(b) == c);
    }
}

TEST_CASE("narrowing and widening match torch's casts") {
    st::File f(test::fixtures_dir() + "/safetensors/conversions.safetensors");
    std::vector<float> src = st::to_f32(*f.find("src"));
    REQUIRE(src.size() > 2000);
    struct Fmt {
        const char* name;
        uint32_t (*narrow)(float);
        float (*widen)(uint32_t);
    };
    const Fmt fmts[] = {
        {"bf16", [](float x) { return uint32_t(f32_to_bf16(x)); }, [](uint32_t b) { return bf16_to_f32(uint16_t(b)); }},
        {"f16", [](float x) { return uint32_t(f32_to_f16(x)); }, [](uint32_t b) { return f16_to_f32(uint16_t(b)); }},
        {"f8e4m3", [](float x) { return uint32_t(f32_to_f8e4m3(x)); }, [](uint32_t b) { return f8e4m3_to_f32(uint8_t(b)); }},
        {"f8e5m2", [](float x) { return uint32_t(f32_to_f8e5m2(x)); }, [](uint32_t b) { return f8e5m2_to_f32(uint8_t(b)); }},
    };
    for (const Fmt& fmt : fmts) {
        CAPTURE(fmt.name);
        const st::TensorView* bits_view = f.find(std::string(fmt.name) + "_bits");
        REQUIRE(bits_view);
        std::vector<float> torch_bits = st::to_f32(*bits_view);  // U8/U16 codes, exact in float
        std::vector<float> torch_f32 = st::to_f32(*f.find(std::string(fmt.name) + "_f32"));
        REQUIRE(torch_bits.size() == src.size());
        int mismatches = 0;
        for (size_t i = 0; i < src.size(); ++i) {
            uint32_t ours = fmt.narrow(src[i]);
            uint32_t theirs = uint32_t(torch_bits[i]);
            // NaN payloads are unspecified; NaN-ness must agree.
            bool ok = std::isnan(src[i]) ? std::isnan(fmt.widen(ours)) && std::isnan(fmt.widen(theirs)) : ours == theirs;
            ok = ok && same(fmt.widen(theirs), torch_f32[i]);
            if (!ok && ++mismatches <= 5) {
                char buf[96];
                std::snprintf(buf, sizeof buf, "src bits 0x%08X: ours 0x%X, torch 0x%X", f32_bits(src[i]), ours, theirs);
                MESSAGE(buf);
            }
        }
        CHECK(mismatches == 0);
    }
    for (const char* name : {"f8e4m3", "f8e5m2"}) {
        std::vector<float> all = st::to_f32(*f.find(std::string(name) + "_all_codes_f32"));
        REQUIRE(all.size() == 256);
        for (uint32_t c = 0; c < 256; ++c) {
            float ours = name[3] == '4' ? f8e4m3_to_f32(uint8_t(c)) : f8e5m2_to_f32(uint8_t(c));
            CHECK(same(ours, all[c]));
        }
    }
}

}  // TEST_SUITE
