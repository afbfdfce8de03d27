/*
 * oss_ffi/cxx/client/RetryStrategy.h - how failed requests are retried.
 *
 * The library retries 5xx answers, throttling, timeouts and broken connections itself, with
 * exponential back-off; ClientConfiguration::retryStrategy chooses how often and how long:
 * - DefaultRetryStrategy(maxRetries, scaleFactor): exactly that (delay scaleFactor * 2^n ms).
 * - a subclass: read once when the OssClient is made, by asking shouldRetry() (with a 503
 *   error) for attempts 0, 1, ... (at most 100) and calcDelayTimeMs(error, 0) for the base delay.
 * - null: no retries.
 */
#ifndef OSS_FFI_CXX_CLIENT_RETRYSTRATEGY_H
#define OSS_FFI_CXX_CLIENT_RETRYSTRATEGY_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <oss_ffi/cxx/client/Error.h>

OSS_FFI_CXX_NS_BEGIN

class RetryStrategy {
public:
    virtual ~RetryStrategy() {}
    virtual bool shouldRetry(const Error &error, long attemptedRetries) const = 0;
    virtual long calcDelayTimeMs(const Error &error, long attemptedRetries) const = 0;
};

class DefaultRetryStrategy : public RetryStrategy {
public:
    explicit DefaultRetryStrategy(long maxRetries = 3, long scaleFactor = 300)
        : maxRetries_(maxRetries), scaleFactor_(scaleFactor)
    {
    }
    bool shouldRetry(const Error &error, long attemptedRetries) const override
    {
        if (attemptedRetries >= maxRetries_) {
            return false;
        }
        long status = error.Status();
        return status == 0 || status >= 500 || status == 429;
    }
    long calcDelayTimeMs(const Error &error, long attemptedRetries) const override
    {
        (void)error;
        long shift = attemptedRetries < 0 ? 0 : (attemptedRetries > 20 ? 20 : attemptedRetries);
        return (1L << shift) * scaleFactor_;
    }
    long MaxRetries() const { return maxRetries_; }
    long ScaleFactor() const { return scaleFactor_; }

private:
    long maxRetries_;
    long scaleFactor_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_CLIENT_RETRYSTRATEGY_H
