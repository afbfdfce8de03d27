/*
 * oss_ffi/cxx/http/HttpType.h - HTTP scheme names used by ClientConfiguration.
 */
#ifndef OSS_FFI_CXX_HTTP_HTTPTYPE_H
#define OSS_FFI_CXX_HTTP_HTTPTYPE_H

#include <oss_ffi/cxx/detail/Namespace.h>

OSS_FFI_CXX_NS_BEGIN
namespace Http {

enum Scheme { HTTP, HTTPS };

enum Method { Get, Head, Post, Put, Delete, Connect, Options, Patch, Trace };

}  // namespace Http
OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_HTTP_HTTPTYPE_H
