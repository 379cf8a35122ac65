// Fuzz target: loading a model directory (config.json + model.safetensors)
// and running one forward pass. The input is the config.json text, one NUL
// byte, then the .safetensors image (tools/run_fuzz.sh builds seeds so).
// Properties: loading returns or throws Error (no other exception, no signal,
// no division by zero or signed overflow under UBSan); memory stays bounded
// because config.json is checked against the tensor shapes before the
// parameters are allocated, so what is allocated is what the file holds.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unistd.h>

#include "common/error.h"
#include "engine/model.h"

// Unused-tensor warnings go to stderr: tools/run_fuzz.sh passes -close_fd_mask=2.

using namespace aligners;

static std::string g_dir;

static void write_all(const std::string& path, const uint8_t* data, size_t size) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) std::abort();
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    char tmpl[] = "/tmp/fuzz_model.XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    g_dir = tmpl;
    std::atexit([] {
        std::remove((g_dir + "/config.json").c_str());
        std::remove((g_dir + "/model.safetensors").c_str());
        rmdir(g_dir.c_str());
    });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
    if (!nul) return 0;
    write_all(g_dir + "/config.json", data, size_t(nul - data));
    write_all(g_dir + "/model.safetensors", nul + 1, size - size_t(nul - data) - 1);
    static std::unique_ptr<engine::Backend> backend = engine::make_cpu_backend();
    std::unique_ptr<engine::Model> model;
    try {
        model = engine::Model::load(g_dir, *backend, false);
    } catch (const Error&) {
        return 0;
    }
    const ModelConfig& c = model->config();
    engine::Batch b = engine::Batch::from_sequences({{0, c.vocab_size - 1, c.vocab_size / 2}}, 0, !c.seq_cls);
    if (c.seq_cls) b.labels = {1};
    try {
        model->forward(b);
    } catch (const Error&) {
        // e.g. more positions than a GPT-2 config allows
    }
    return 0;
}
