/*
 * es_crc32_arm.c - CRC32 with the ARMv8 CRC32 instructions (CRC32X/W/H/B, the
 * zlib polynomial, reflected, on the raw register).
 *
 * Compiled in on AArch64 with GCC, Clang or MSVC.  Used when the compiler
 * already targets +crc (__ARM_FEATURE_CRC32, e.g. every Apple arm64 build) or when
 * the OS reports the feature (Linux HWCAP_CRC32, Windows
 * PF_ARM_V8_CRC32_INSTRUCTIONS_AVAILABLE).  Not exercised on the x86-64 CI machine.
 */
#include "es_internal.h"

#ifdef ES_HAVE_AARCH64

#if defined(_MSC_VER) && !defined(__clang__)
#include <arm64intr.h>
#include <windows.h>
#define ES_T_CRC
#define ES_CRC32X(r, v) __crc32d((r), (v))
#define ES_CRC32B(r, v) __crc32b((r), (v))
#elif defined(__clang__)
/* Older Clang declares the arm_acle.h intrinsics only when +crc is on for the whole
 * file; its builtins work under the target attribute. */
#define ES_T_CRC        __attribute__((target("crc")))
#define ES_CRC32X(r, v) __builtin_arm_crc32d((r), (v))
#define ES_CRC32B(r, v) __builtin_arm_crc32b((r), (v))
#else
#include <arm_acle.h>
#define ES_T_CRC        __attribute__((target("+crc")))
#define ES_CRC32X(r, v) __crc32d((r), (v))
#define ES_CRC32B(r, v) __crc32b((r), (v))
#endif
#if defined(__linux__) && !defined(_MSC_VER)
#include <sys/auxv.h>
#endif

ES_T_CRC uint32_t es_crc32_reg_armv8(uint32_t reg, const uint8_t *p, size_t n) {
    while (n >= 32) {
        reg = ES_CRC32X(reg, es_load_le64(p));
        reg = ES_CRC32X(reg, es_load_le64(p + 8));
        reg = ES_CRC32X(reg, es_load_le64(p + 16));
        reg = ES_CRC32X(reg, es_load_le64(p + 24));
        p += 32;
        n -= 32;
    }
    while (n >= 8) {
        reg = ES_CRC32X(reg, es_load_le64(p));
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        reg = ES_CRC32B(reg, *p);
        p++;
        n--;
    }
    return reg;
}

int es_crc32_probe_arm(void) {
#if defined(__ARM_FEATURE_CRC32)
    return ES_CRC32_ARMV8;
#elif defined(_MSC_VER) && !defined(__clang__)
    return IsProcessorFeaturePresent(PF_ARM_V8_CRC32_INSTRUCTIONS_AVAILABLE) ? ES_CRC32_ARMV8 : 0;
#elif defined(__linux__) && defined(AT_HWCAP)
    /* HWCAP_CRC32 is bit 7 of AT_HWCAP on Linux/AArch64. */
    return (getauxval(AT_HWCAP) & (1ul << 7)) ? ES_CRC32_ARMV8 : 0;
#elif defined(__APPLE__)
    return ES_CRC32_ARMV8; /* every Apple arm64 CPU has it */
#else
    return 0;
#endif
}

#else /* not AArch64 */

int es_crc32_probe_arm(void) {
    return 0;
}

#endif /* ES_HAVE_AARCH64 */
