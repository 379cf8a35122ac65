// --device for the pipeline commands: "cpu", "cuda", or "auto" (CUDA when
// this binary was built with it and a device is visible, else the CPU), and
// --attention for the CUDA backend: "flash" (the hand-written kernels) or
// "cudnn" (cuDNN's fused SDPA graphs where they apply).
#pragma once
#include <memory>
#include <string>

#include "common/args.h"
#include "engine/backend.h"

namespace aligners::cli {

void add_device_flag(ArgParser& args, std::string* device, std::string* attention);
std::unique_ptr<engine::Backend> select_backend(const std::string& device, const std::string& attention = "flash");

}  // namespace aligners::cli
