/*
 * oss_ffi/cxx/detail/DropIn.h - PRIVATE: included first by every header of the drop-in tree
 * <alibabacloud/oss/...>, so that the layer's names go into the official SDK's namespace
 * AlibabaCloud::OSS (see detail/Namespace.h). No include guard: each drop-in header checks again.
 */
#if defined(OSS_FFI_CXX_DETAIL_NAMESPACE_H) && !defined(OSS_FFI_CXX_DROP_IN)
#error "oss-ffi: <alibabacloud/oss/...> (drop-in form, AlibabaCloud::OSS) included after <oss_ffi/cxx/...> (coexistence form, OssFfi): use one form per translation unit"
#endif
#ifndef OSS_FFI_CXX_DROP_IN
#define OSS_FFI_CXX_DROP_IN 1
#endif
