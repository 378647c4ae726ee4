#pragma once
// lucid's version, as CMake's project(lucid VERSION ...) gives it: "0.1.0".
// Checkpoints record it (train/trainer_state.h).
namespace lucid {
const char* version();
}  // namespace lucid
