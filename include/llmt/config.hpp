// config: compile-time configuration macros (user inputs LLMT_ENABLE_*, derived facts LLMT_HAS_*)
#pragma once

#include <llmt/version.hpp>

// Inline ABI namespace: two llmt versions linked into one program do not collide.
#define LLMT_ABI_NAMESPACE v0_1
#define LLMT_BEGIN_NAMESPACE namespace llmt { inline namespace LLMT_ABI_NAMESPACE {
#define LLMT_END_NAMESPACE } }

#if defined(__x86_64__) || defined(_M_X64)
#define LLMT_HAS_X86_64 1
#else
#define LLMT_HAS_X86_64 0
#endif

#if defined(__unix__) || defined(__APPLE__)
#define LLMT_HAS_MMAP 1
#else
#define LLMT_HAS_MMAP 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define LLMT_ALWAYS_INLINE inline __attribute__((always_inline))
#define LLMT_LIKELY(x) __builtin_expect(!!(x), 1)
#define LLMT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LLMT_ALWAYS_INLINE inline
#define LLMT_LIKELY(x) (x)
#define LLMT_UNLIKELY(x) (x)
#endif

#ifndef LLMT_ENABLE_CUDA
#define LLMT_ENABLE_CUDA 0
#endif
#ifndef LLMT_ENABLE_METAL
#define LLMT_ENABLE_METAL 0
#endif
