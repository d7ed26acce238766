"""download_file against a local HTTP server: success, bad checksum, fallback, offline."""

from __future__ import annotations

import hashlib
import re
import socket
from pathlib import Path

import pytest

from scratchcnn.datasets import DownloadError, download_file, md5sum

PAYLOAD = b"IDX bytes stand-in " * 100
PAYLOAD_MD5 = hashlib.md5(PAYLOAD, usedforsecurity=False).hexdigest()


def _serve(root: Path, relative: str, data: bytes = PAYLOAD) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_download_with_matching_md5(http_root, tmp_path: Path) -> None:
    root, base = http_root
    _serve(root, "mirror/file.gz")
    dest = tmp_path / "cache" / "sub" / "file.gz"
    assert download_file(f"{base}/mirror/file.gz", dest, md5=PAYLOAD_MD5) == dest
    assert dest.read_bytes() == PAYLOAD
    assert md5sum(dest) == PAYLOAD_MD5
    assert sorted(p.name for p in dest.parent.iterdir()) == ["file.gz"]


def test_checksum_mismatch_leaves_nothing(http_root, tmp_path: Path) -> None:
    root, base = http_root
    _serve(root, "mirror/file.gz", b"tampered")
    dest = tmp_path / "out" / "file.gz"
    message = f"{base}/mirror/file.gz: ValueError: md5 mismatch: expected {PAYLOAD_MD5}, got"
    with pytest.raises(DownloadError, match=re.escape(message)):
        download_file([f"{base}/mirror/file.gz"], dest, md5=PAYLOAD_MD5)
    assert list(dest.parent.iterdir()) == []


def test_falls_back_to_second_mirror(http_root, tmp_path: Path) -> None:
    root, base = http_root
    _serve(root, "second/file.gz")
    dest = tmp_path / "file.gz"
    urls = [f"{base}/first/file.gz", f"{base}/second/file.gz"]
    download_file(urls, dest, md5=PAYLOAD_MD5)
    assert dest.read_bytes() == PAYLOAD


def test_all_mirrors_fail_lists_each_url(http_root, tmp_path: Path) -> None:
    _, base = http_root
    urls = [f"{base}/a/file.gz", f"{base}/b/file.gz"]
    with pytest.raises(DownloadError) as info:
        download_file(urls, tmp_path / "file.gz")
    assert [reason for _, reason in info.value.attempts] == ["HTTP 404 File not found"] * 2
    assert f"{base}/a/file.gz: HTTP 404" in str(info.value)
    assert f"{base}/b/file.gz: HTTP 404" in str(info.value)


def test_server_down(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/file.gz"
    with pytest.raises(DownloadError, match=re.escape(f"{url}: cannot connect")):
        download_file(url, tmp_path / "file.gz", timeout=5)
    assert not (tmp_path / "file.gz").exists()
    assert list(tmp_path.iterdir()) == []


def test_rejects_other_schemes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="download_file: expected an http or https URL"):
        download_file("file:///etc/hostname", tmp_path / "x")


def test_needs_a_url(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="download_file: expected at least one URL"):
        download_file([], tmp_path / "x")
