/*
 * oss_ffi/cxx/Global.h - SDK lifecycle, logging and CRC64 helpers.
 *
 * InitializeSdk / ShutdownSdk are idempotent and thread-safe (unlike the original's).
 */
#ifndef OSS_FFI_CXX_GLOBAL_H
#define OSS_FFI_CXX_GLOBAL_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>

#include <oss_ffi.h>

#include <oss_ffi/cxx/Types.h>
#include <oss_ffi/cxx/detail/Handle.h>

OSS_FFI_CXX_NS_BEGIN

namespace detail {

inline void logTrampoline(oss_log_level_t level, const char *message, void *userData) noexcept
{
    try {
        LogCallback callback = *static_cast<LogCallback *>(userData);
        if (callback) {
            /* As the official SDK: each line ends with exactly one newline. */
            std::string line(message ? message : "");
            while (!line.empty() && line[line.size() - 1] == '\n') line.erase(line.size() - 1);
            line += '\n';
            callback(static_cast<LogLevel>(level), line);
        }
    } catch (...) {
        /* never unwind into the library */
    }
}

inline void deleteLogCallback(void *userData) noexcept { delete static_cast<LogCallback *>(userData); }

}  // namespace detail

/* Starts the library's runtime. When it cannot start, later calls fail with NotInitialized. */
inline void InitializeSdk() { detail::ErrorHandle err(oss_initialize_sdk()); }

inline bool IsSdkInitialized() { return oss_is_sdk_initialized(); }

/* Cancels running calls (they fail with Cancelled) and stops the runtime. */
inline void ShutdownSdk() { oss_shutdown_sdk(); }

/* Also settable with the environment variable OSS_SDK_LOG_LEVEL. */
inline void SetLogLevel(LogLevel level) { oss_set_log_level(static_cast<uint32_t>(level)); }

/* nullptr: log lines go to stderr again. */
inline void SetLogCallback(LogCallback callback)
{
    if (!callback) {
        oss_set_log_callback(nullptr, nullptr, nullptr);
        return;
    }
    LogCallback *boxed = new (std::nothrow) LogCallback(callback);
    if (boxed) {
        oss_set_log_callback(detail::logTrampoline, boxed, detail::deleteLogCallback);
    }
}

/* CRC-64/XZ as in x-oss-hash-crc64ecma: ComputeCRC64(0, buf, len) is the CRC of buf. */
inline uint64_t ComputeCRC64(uint64_t crc, const void *buf, size_t len)
{
    return oss_crc64(crc, static_cast<const uint8_t *>(buf), len);
}

/* The CRC of A followed by B from crc(A), crc(B) and len(B). */
inline uint64_t CombineCRC64(uint64_t crc1, uint64_t crc2, uintmax_t len2)
{
    return oss_crc64_combine(crc1, crc2, static_cast<uint64_t>(len2));
}

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_GLOBAL_H
