"""Downloading files from a list of mirrors, with an md5 check and an atomic write.

Only the standard library's ``urllib`` is used. A file is streamed into a temporary file
beside its destination and moved into place with ``os.replace`` once its checksum matches,
so an interrupted or corrupt download never leaves a partial file under the final name.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

DEFAULT_TIMEOUT = 30.0
_CHUNK = 1 << 16


class DownloadError(OSError):
    """Every mirror failed; ``attempts`` lists ``(url, reason)`` for each one tried."""

    def __init__(self, message: str, attempts: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.attempts = list(attempts)


def md5sum(path: str | os.PathLike[str]) -> str:
    """The hexadecimal md5 digest of a file's bytes."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url: str, dest: Path, md5: str | None, timeout: float) -> None:
    """Stream ``url`` into a temporary file next to ``dest``, check it, then move it into place."""
    digest = hashlib.md5(usedforsecurity=False)
    handle, temp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as rsp:
            while chunk := rsp.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise ValueError(f"md5 mismatch: expected {md5.lower()}, got {digest.hexdigest()}")
        os.replace(temp_name, dest)
    finally:
        if os.path.exists(temp_name):
            os.remove(temp_name)


def download_file(
    urls: str | Sequence[str],
    dest: str | os.PathLike[str],
    md5: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Download the first of ``urls`` that works to ``dest`` and return ``dest``.

    ``urls`` are mirrors of one file, tried in order (http or https). With ``md5`` given, a
    file whose checksum differs counts as a failed mirror. When every mirror fails a
    :class:`DownloadError` lists each URL and why it failed; nothing is left at ``dest``.
    """
    url_list = [urls] if isinstance(urls, str) else list(urls)
    if not url_list:
        raise ValueError("download_file: expected at least one URL, got none")
    for url in url_list:
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"download_file: expected an http or https URL, got {url!r}")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    attempts: list[tuple[str, str]] = []
    for url in url_list:
        try:
            _fetch(url, dest, md5, timeout)
            return dest
        except urllib.error.HTTPError as error:
            error.close()
            attempts.append((url, f"HTTP {error.code} {error.reason}"))
        except urllib.error.URLError as error:
            attempts.append((url, f"cannot connect ({error.reason})"))
        except (OSError, http.client.HTTPException, ValueError) as error:
            attempts.append((url, f"{type(error).__name__}: {error}"))
    tried = "\n".join(f"  {url}: {reason}" for url, reason in attempts)
    raise DownloadError(
        f"download_file: could not download {dest.name} from any of {len(attempts)} "
        f"URL(s):\n{tried}",
        attempts,
    )
