// Shared by the C++ test programs (as tests/c/check.h is by the C ones): a non-fatal CHECK that
// counts failures, and required environment variables. Standard headers only, so the programs
// also build against the official SDK.
#ifndef OSS_FFI_TEST_CHECK_HPP
#define OSS_FFI_TEST_CHECK_HPP

#include <cstdio>
#include <cstdlib>
#include <string>

static int failures = 0;

#define CHECK(cond, what)                                                              \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            std::fprintf(stderr, "FAIL %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, \
                         std::string(what).c_str());                                   \
            ++failures;                                                                \
        }                                                                              \
    } while (0)

// The value of a required environment variable; exits with 2 when it is missing.
static inline std::string env(const char *name)
{
    const char *v = std::getenv(name);
    if (!v) {
        std::fprintf(stderr, "missing environment variable %s\n", name);
        std::exit(2);
    }
    return v;
}

#endif
