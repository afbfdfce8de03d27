/*
 * oss_ffi/cxx/detail/Namespace.h - PRIVATE: the namespace the C++ layer's names go into. The
 * layer is written once, under oss_ffi/cxx/, and reached through two include trees:
 *
 *   <oss_ffi/cxx/OssClient.h>        OssFfi::OssClient, ...            (coexistence form: one
 *                                    program may also use the official SDK, whose headers and
 *                                    namespace are <alibabacloud/oss/...>, AlibabaCloud::OSS)
 *   <alibabacloud/oss/OssClient.h>   AlibabaCloud::OSS::OssClient, ... (drop-in form: thin
 *                                    headers that select the official namespace, then include
 *                                    the same files; see detail/DropIn.h)
 *
 * One translation unit uses one form (the drop-in form stops with #error when the coexistence
 * form came first). Both forms may be linked into one program: every definition is inline and
 * the names of the two forms are in different namespaces, so nothing is defined twice.
 */
#ifndef OSS_FFI_CXX_DETAIL_NAMESPACE_H
#define OSS_FFI_CXX_DETAIL_NAMESPACE_H

#if defined(OSS_FFI_CXX_DROP_IN)
#define OSS_FFI_CXX_NS ::AlibabaCloud::OSS
#define OSS_FFI_CXX_NS_BEGIN \
    namespace AlibabaCloud { \
    namespace OSS {
#define OSS_FFI_CXX_NS_END \
    }                      \
    }
#else
#define OSS_FFI_CXX_NS ::OssFfi
#define OSS_FFI_CXX_NS_BEGIN namespace OssFfi {
#define OSS_FFI_CXX_NS_END }
#endif

#endif  // OSS_FFI_CXX_DETAIL_NAMESPACE_H
