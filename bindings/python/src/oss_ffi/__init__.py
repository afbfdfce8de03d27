"""oss_ffi: resumable, concurrent, verified Alibaba Cloud OSS downloads, through liboss_ffi's C ABI.

    import oss_ffi

    with oss_ffi.Client("https://oss-cn-hangzhou.aliyuncs.com", region="cn-hangzhou") as client:
        meta = client.resumable_download("bucket", "big.bin", "big.bin", checkpoint_dir=".",
                                         threads=8, progress=lambda inc, done, total: ...)
        print(meta.content_length, meta.etag)

The shared library is found through ``oss_ffi.load_library(path)``, ``$OSS_FFI_LIBRARY``, the copy
bundled in the package (``pip install ./bindings/python`` builds it), or the platform's library
search (``liboss_ffi.so.0.1``); it is loaded on first use.
"""

from ._batch import BatchProgress, BatchReport, ObjectOutcome, Outcome
from ._client import Client
from ._convert import ByteRange, ProgressCallback
from ._meta import ObjectMeta
from ._metrics import RequestMetrics, RequestStats
from ._sdk import (
    crc64,
    crc64_combine,
    initialize,
    is_initialized,
    set_log_handler,
    set_log_level,
    shutdown,
    version,
)
from ._listing import ListedObject
from ._reader import AsyncObjectReader, ObjectReader
from ._stream import ObjectStream
from ._transfer import Transfer, TransferState, TransferStatus
from ._credentials import (
    CredentialsSource,
    DefaultChain,
    EcsRamRole,
    OidcRole,
    Profile,
    RamRoleArn,
)
from ._errors import (
    BusyError,
    CancelledError,
    CrcMismatchError,
    ErrorKind,
    InvalidArgumentError,
    LocalIOError,
    NoSuchKeyError,
    NotInitializedError,
    ObjectChangedError,
    OssError,
    PanicError,
    ServerError,
    TimeoutError,
    TransportError,
)
from ._lib import (
    ABI_VERSION,
    IncompatibleLibraryError,
    LibraryNotFoundError,
    load_library,
)

__version__ = "0.1.0"

__all__ = [
    "ABI_VERSION",
    "BatchProgress",
    "BatchReport",
    "AsyncObjectReader",
    "BusyError",
    "ByteRange",
    "CancelledError",
    "Client",
    "CrcMismatchError",
    "CredentialsSource",
    "DefaultChain",
    "EcsRamRole",
    "ErrorKind",
    "IncompatibleLibraryError",
    "InvalidArgumentError",
    "LibraryNotFoundError",
    "ListedObject",
    "LocalIOError",
    "NoSuchKeyError",
    "NotInitializedError",
    "ObjectChangedError",
    "ObjectMeta",
    "ObjectOutcome",
    "ObjectReader",
    "ObjectStream",
    "OidcRole",
    "OssError",
    "Outcome",
    "PanicError",
    "Profile",
    "ProgressCallback",
    "RamRoleArn",
    "RequestMetrics",
    "RequestStats",
    "ServerError",
    "TimeoutError",
    "Transfer",
    "TransferState",
    "TransferStatus",
    "TransportError",
    "crc64",
    "crc64_combine",
    "initialize",
    "is_initialized",
    "load_library",
    "set_log_handler",
    "set_log_level",
    "shutdown",
    "version",
]

# Every public class prints (repr, tracebacks, pickles) as oss_ffi.<Name>, whichever file of the
# package defines it: the files are the package's layout, not its API.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj
