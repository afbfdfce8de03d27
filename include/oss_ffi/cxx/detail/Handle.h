/*
 * oss_ffi/cxx/detail/Handle.h - PRIVATE: RAII over the oss_ffi.h handles. Not part of the
 * SDK surface; may change at any time.
 */
#ifndef OSS_FFI_CXX_DETAIL_HANDLE_H
#define OSS_FFI_CXX_DETAIL_HANDLE_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <memory>

#include <oss_ffi.h>

OSS_FFI_CXX_NS_BEGIN
namespace detail {

/* Owns one C handle (move-only); Free releases it (every *_free accepts NULL). */
template <typename T, void (*Free)(T *)>
class Handle {
public:
    Handle() noexcept : p_(nullptr) {}
    explicit Handle(T *p) noexcept : p_(p) {}
    Handle(Handle &&other) noexcept : p_(std::move(other.p_)) {}
    Handle &operator=(Handle &&other) noexcept
    {
        p_ = std::move(other.p_);
        return *this;
    }
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;

    T *get() const noexcept { return p_.get(); }
    T *release() noexcept { return p_.release(); }
    void reset(T *p = nullptr) noexcept { p_.reset(p); }
    explicit operator bool() const noexcept { return p_ != nullptr; }

private:
    struct Deleter {
        void operator()(T *p) const noexcept { Free(p); }
    };
    std::unique_ptr<T, Deleter> p_;
};

typedef Handle<oss_error_t, oss_error_free> ErrorHandle;
typedef Handle<oss_config_t, oss_config_free> ConfigHandle;
typedef Handle<oss_credentials_provider_t, oss_credentials_provider_free> ProviderHandle;
typedef Handle<oss_get_object_request_t, oss_get_object_request_free> GetRequestHandle;
typedef Handle<oss_download_request_t, oss_download_request_free> DownloadRequestHandle;
typedef Handle<oss_object_meta_t, oss_object_meta_free> MetaHandle;

/* A shared client reference: copies take another reference with oss_client_clone. */
class SharedClient {
public:
    SharedClient() noexcept {}
    explicit SharedClient(const oss_client_t *client) noexcept : h_(client) {}
    SharedClient(const SharedClient &other) noexcept : h_(oss_client_clone(other.h_.get())) {}
    SharedClient &operator=(const SharedClient &other) noexcept
    {
        if (this != &other) {
            h_.reset(oss_client_clone(other.h_.get()));
        }
        return *this;
    }
    SharedClient(SharedClient &&other) noexcept : h_(std::move(other.h_)) {}
    SharedClient &operator=(SharedClient &&other) noexcept
    {
        h_ = std::move(other.h_);
        return *this;
    }

    const oss_client_t *get() const noexcept { return h_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    Handle<const oss_client_t, oss_client_free> h_;
};

}  // namespace detail
OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_DETAIL_HANDLE_H
