/*
 * oss_ffi/cxx/client/RateLimiter.h - a transfer rate in KB/s.
 *
 * ClientConfiguration::recvRateLimiter->Rate() is asked again while the client downloads (before
 * each chunk of a body, as the official SDK asks it during transfers), so setRate takes effect on
 * running downloads; it limits the client's aggregate download rate (all connections together,
 * where the official SDK limits each connection). Rate() must be thread-safe. sendRateLimiter is accepted
 * and unused (this library only downloads).
 */
#ifndef OSS_FFI_CXX_CLIENT_RATELIMITER_H
#define OSS_FFI_CXX_CLIENT_RATELIMITER_H

#include <oss_ffi/cxx/detail/Namespace.h>

OSS_FFI_CXX_NS_BEGIN

class RateLimiter {
public:
    RateLimiter() = default;
    virtual ~RateLimiter() = default;
    virtual void setRate(int rate) = 0;
    virtual int Rate() const = 0;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_CLIENT_RATELIMITER_H
