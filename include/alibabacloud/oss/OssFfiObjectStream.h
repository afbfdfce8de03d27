/* alibabacloud/oss/OssFfiObjectStream.h - the drop-in form (namespace AlibabaCloud::OSS) of
 * <oss_ffi/cxx/OssFfiObjectStream.h>, an oss-ffi extension (not in the official SDK). */
#include <oss_ffi/cxx/detail/DropIn.h>
#include <oss_ffi/cxx/OssFfiObjectStream.h>
