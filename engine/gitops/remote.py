"""A manifest repository's URL: shown without its secrets, and its credentials given to git
without ever appearing in a process's arguments, a repository's config or a file on disk.

``https://user:token@host/repo`` is split into the URL git sees (``https://host/repo``) and
the credentials.  They reach git through a credential helper that reads them from an
in-memory file (``memfd``) of this process by its ``/proc`` path: nothing persists when the
process dies, even by SIGKILL, and no argv (``git remote-http origin <url>``, readable by every
local user in ``/proc/*/cmdline``) carries them.  Where there is no memfd the file is written
0600 in a private scratch directory and removed with it.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from urllib.parse import unquote

# A URL's scheme and the text up to the end of its authority (the first '/' or whitespace).
# The userinfo runs to the LAST '@' of the authority, as Go's net/url and WHATWG parse it,
# so a password with an unescaped '@' is cut out whole.  '?' and '#' are not treated as the
# end here: for redaction, cutting too much beats leaving half a password in a log line.
_URL_AUTHORITY = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<authority>[^/\s\"'<>]*)")
_HELPER_SCHEMES = ("http", "https", "ftp", "ftps")


def redact(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """``text`` with the userinfo of every URL and each of ``secrets`` replaced by ``***``."""

    def scrub(match: re.Match[str]) -> str:
        authority = match.group("authority")
        at = authority.rfind("@")
        if at < 0:
            return match.group(0)
        return f"{match.group('scheme')}***@{authority[at + 1 :]}"

    text = _URL_AUTHORITY.sub(scrub, text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


@dataclass(frozen=True)
class RemoteUrl:
    """``given`` split into the URL git is told (``url``) and the credentials it carried."""

    given: str
    url: str
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, repo: str) -> RemoteUrl:
        """Split the userinfo off an http(s) URL; other URLs (ssh's ``git@``) stay as given."""
        match = _URL_AUTHORITY.match(repo)
        if not match:
            return cls(repo, repo)
        scheme = match.group("scheme")[:-3].lower()
        authority = match.group("authority")
        at = authority.rfind("@")
        if at < 0 or scheme not in _HELPER_SCHEMES:
            return cls(repo, repo)
        userinfo = authority[:at]
        user, colon, password = userinfo.partition(":")
        url = match.group("scheme") + authority[at + 1 :] + repo[match.end() :]
        return cls(repo, url, unquote(user), unquote(password) if colon else None)

    @property
    def has_credentials(self) -> bool:
        return self.username is not None

    def secrets(self) -> list[str]:
        """Strings to scrub from every message: the password (raw and decoded) and a user name
        long enough to be a token used as the user name (``git@`` is no secret)."""
        match = _URL_AUTHORITY.match(self.given)
        if not match or "@" not in match.group("authority"):
            return []
        userinfo = match.group("authority").rsplit("@", 1)[0]
        user, colon, password = userinfo.partition(":")
        found = [userinfo, password] if colon and password else []
        if len(user) >= 8:
            found.append(user)
        return found + [unquote(s) for s in found]

    def shown(self) -> str:
        return redact(self.given, self.secrets())


class CredentialFile:
    """The credentials in git's credential-helper format, readable by path while open."""

    def __init__(self, remote: RemoteUrl, scratch_dir: str) -> None:
        text = f"username={remote.username or ''}\npassword={remote.password or ''}\n"
        if "\n" in (remote.username or "") + (remote.password or ""):
            from engine.core.errors import PublishError

            raise PublishError("--repo: the credentials in the URL contain a newline")
        self._fd: int | None = None
        self._file: str | None = None
        data = text.encode("utf-8", "surrogateescape")
        memfd_create = getattr(os, "memfd_create", None)
        proc_fd = f"/proc/{os.getpid()}/fd"
        if memfd_create is not None and os.path.isdir(proc_fd):
            fd = memfd_create("skrender-credentials", getattr(os, "MFD_CLOEXEC", 1))
            os.fchmod(fd, 0o600)
            os.write(fd, data)
            self._fd = fd
            self.path = f"{proc_fd}/{fd}"
        else:
            self.path = os.path.join(scratch_dir, "credentials")
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            self._file = self.path

    def helper_command(self) -> str:
        """The ``credential.helper`` value: print the file for ``get``, ignore store/erase."""
        quoted = "'" + self.path.replace("'", "'\\''") + "'"
        return f'!f() {{ test "$1" = get && cat {quoted}; }}; f'

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._file is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._file)
            self._file = None
