#pragma once
// The sweep presets harness/inputs/*.cfg, compiled into the program: the build generates
// sweep_presets.cpp from them (harness/embed_presets.cmake), and regenerates it when a .cfg changes.
#include <cstddef>

namespace attnbench {

struct EmbeddedPreset {
  const char* name;  ///< the file name without .cfg
  const char* text;  ///< the file's contents
};

/// Sorted by name.
extern const EmbeddedPreset kEmbeddedPresets[];
extern const std::size_t kEmbeddedPresetCount;

}  // namespace attnbench
