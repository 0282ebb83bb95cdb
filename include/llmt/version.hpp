// version: the library version as macros and constants
#pragma once

#define LLMT_VERSION_MAJOR 0
#define LLMT_VERSION_MINOR 1
#define LLMT_VERSION_PATCH 0
#define LLMT_VERSION_STRING "0.1.0"

namespace llmt {
inline constexpr int version_major = LLMT_VERSION_MAJOR;
inline constexpr int version_minor = LLMT_VERSION_MINOR;
inline constexpr int version_patch = LLMT_VERSION_PATCH;
inline constexpr const char* version_string = LLMT_VERSION_STRING;
}  // namespace llmt
