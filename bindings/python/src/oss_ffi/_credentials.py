"""Cloud credentials sources for :class:`oss_ffi.Client` (``credentials=``), over the C ABI's
``oss_credentials_provider_new_*`` constructors. See the README's "Credentials" section.

    client = oss_ffi.Client(endpoint, credentials=oss_ffi.DefaultChain(), region="cn-hangzhou")

Credentials that expire (ECS role, OIDC, RAM role ARN) are fetched on the first request and
refreshed 15 minutes before they expire, one refresh shared by concurrent requests; a failed
refresh keeps credentials that are still valid. ``repr`` never shows a secret.
"""
from __future__ import annotations

import os
from ctypes import byref, c_void_p
from typing import Any, Optional

from ._errors import check
from ._lib import Library


def _opt(value: Any, name: str) -> Optional[bytes]:
    if value is None or value == "":
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (name, type(value).__name__))
    if "\0" in value:
        raise ValueError("%s must not contain NUL characters" % name)
    return value.encode("utf-8", "surrogatepass")


def _req(value: Any, name: str) -> bytes:
    b = _opt(value, name)
    if b is None:
        raise ValueError("%s must not be empty" % name)
    return b


class CredentialsSource:
    """Base of the credentials sources; pass an instance as ``Client(credentials=...)``."""

    def _new(self, lib: Library, out: c_void_p) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _provider(self, lib: Library) -> c_void_p:
        """A new native provider (the caller frees it with oss_credentials_provider_free)."""
        out = c_void_p()
        self._new(lib, out)
        return out


class Profile(CredentialsSource):
    """The Alibaba Cloud CLI's ``~/.aliyun/config.json`` (``path=None``) or another CLI config or
    ini credentials file; ``profile=None``: ``ALIBABA_CLOUD_PROFILE``, else the file's
    ``current`` (ini: ``default``). Modes AK, StsToken, RamRoleArn, ChainableRamRoleArn,
    EcsRamRole, OIDC; others raise when the client is made."""

    def __init__(self, path: "Optional[str | os.PathLike[str]]" = None, profile: Optional[str] = None) -> None:
        self.path, self.profile = path, profile
        self._args = (_opt(path, "path"), _opt(profile, "profile"))

    def _new(self, lib: Library, out: c_void_p) -> None:
        check(lib, lib.oss_credentials_provider_new_profile(*self._args, byref(out)))

    def __repr__(self) -> str:
        return "Profile(path=%r, profile=%r)" % (self.path, self.profile)


class EcsRamRole(CredentialsSource):
    """The ECS instance RAM role from the metadata service (IMDSv2 token first); ``role=None``:
    ``ALIBABA_CLOUD_ECS_METADATA``, else the instance's role."""

    def __init__(self, role: Optional[str] = None) -> None:
        self.role = role
        self._role = _opt(role, "role")

    def _new(self, lib: Library, out: c_void_p) -> None:
        check(lib, lib.oss_credentials_provider_new_ecs_ram_role(self._role, byref(out)))

    def __repr__(self) -> str:
        return "EcsRamRole(role=%r)" % (self.role,)


class OidcRole(CredentialsSource):
    """STS ``AssumeRoleWithOIDC`` (RRSA); each None comes from ``ALIBABA_CLOUD_ROLE_ARN``,
    ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN``, ``ALIBABA_CLOUD_OIDC_TOKEN_FILE``,
    ``ALIBABA_CLOUD_ROLE_SESSION_NAME``."""

    def __init__(
        self,
        role_arn: Optional[str] = None,
        oidc_provider_arn: Optional[str] = None,
        oidc_token_file: "Optional[str | os.PathLike[str]]" = None,
        role_session_name: Optional[str] = None,
    ) -> None:
        self.role_arn, self.oidc_provider_arn = role_arn, oidc_provider_arn
        self.oidc_token_file, self.role_session_name = oidc_token_file, role_session_name
        self._args = (
            _opt(role_arn, "role_arn"),
            _opt(oidc_provider_arn, "oidc_provider_arn"),
            _opt(oidc_token_file, "oidc_token_file"),
            _opt(role_session_name, "role_session_name"),
        )

    def _new(self, lib: Library, out: c_void_p) -> None:
        check(lib, lib.oss_credentials_provider_new_oidc_role(*self._args, byref(out)))

    def __repr__(self) -> str:
        return "OidcRole(role_arn=%r, oidc_provider_arn=%r, oidc_token_file=%r)" % (
            self.role_arn, self.oidc_provider_arn, self.oidc_token_file)


class RamRoleArn(CredentialsSource):
    """STS ``AssumeRole`` signed with an access key (``security_token`` for STS source keys)."""

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        role_arn: str,
        role_session_name: Optional[str] = None,
        security_token: Optional[str] = None,
    ) -> None:
        self.access_key_id, self.role_arn = access_key_id, role_arn
        self._args = (
            _req(access_key_id, "access_key_id"),
            _req(access_key_secret, "access_key_secret"),
            _opt(security_token, "security_token"),
            _req(role_arn, "role_arn"),
            _opt(role_session_name, "role_session_name"),
        )

    def _new(self, lib: Library, out: c_void_p) -> None:
        check(lib, lib.oss_credentials_provider_new_ram_role_arn(*self._args, byref(out)))

    def __repr__(self) -> str:
        return "RamRoleArn(access_key_id=%r, role_arn=%r)" % (self.access_key_id, self.role_arn)


class DefaultChain(CredentialsSource):
    """The official default chain: environment (``ALIBABA_CLOUD_ACCESS_KEY_ID``..., then
    ``OSS_ACCESS_KEY_ID``...), OIDC, ``~/.aliyun/config.json``, ``~/.alibabacloud/credentials``,
    the ECS RAM role; walked on the first request, the first that answers is kept."""

    def _new(self, lib: Library, out: c_void_p) -> None:
        check(lib, lib.oss_credentials_provider_new_default_chain(byref(out)))

    def __repr__(self) -> str:
        return "DefaultChain()"
