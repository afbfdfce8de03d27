/*
 * oss_ffi/cxx/model/VoidResult.h - the result of operations that return nothing.
 */
#ifndef OSS_FFI_CXX_MODEL_VOIDRESULT_H
#define OSS_FFI_CXX_MODEL_VOIDRESULT_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <oss_ffi/cxx/OssResult.h>

OSS_FFI_CXX_NS_BEGIN

class VoidResult : public OssResult {
public:
    VoidResult() = default;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_MODEL_VOIDRESULT_H
