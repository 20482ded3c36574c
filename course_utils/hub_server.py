"""Serve a huggingface_hub cache folder over HTTP on loopback, as the hub answers (course tooling, no chapter).

Used to rehearse ``python -m course_utils prefetch`` through the real download code: point ``HF_ENDPOINT`` at
:attr:`StandinHubServer.url` and huggingface_hub (and FastEmbed through it) downloads from the stand-in hub
(:mod:`course_utils.standin_hub`) exactly as from the hub. It answers what huggingface_hub 1.x asks:

- ``GET /api/models/{repo}`` and ``/api/models/{repo}/revision/{rev}``: model info (``id``, ``sha``, ``siblings``);
- ``GET /api/models/{repo}/tree/{rev}[/{path}]?recursive=...``: the tree listing (``type``, ``path``, ``size``,
  ``oid``, ``lfs{oid, size}``), read from the cache's ``trees/<commit>.json``;
- ``HEAD``/``GET /{repo}/resolve/{rev}/{path}``: the file, with ``X-Repo-Commit``, a quoted ``ETag``,
  ``X-Linked-Etag``/``X-Linked-Size`` for LFS files and the real ``Content-Length`` on ``HEAD``;
- 404s with ``X-Error-Code: RepoNotFound | RevisionNotFound | EntryNotFound``.

It binds 127.0.0.1 only and serves only files inside the folders it was given.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["StandinHubServer", "HubRepo", "index_cache"]


@dataclass
class HubRepo:
    """One repository of a huggingface_hub cache folder."""

    repo_id: str
    folder: Path
    refs: dict[str, str]
    trees: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def commit(self, revision: str) -> str | None:
        if revision in self.refs:
            return self.refs[revision]
        return revision if (self.folder / "snapshots" / revision).is_dir() else None

    def files(self, commit: str) -> dict[str, dict[str, Any]]:
        if commit not in self.trees:
            path = self.folder / "trees" / f"{commit}.json"
            if path.exists():
                self.trees[commit] = json.loads(path.read_text(encoding="utf-8"))["files"]
            else:  # no cached listing: list the snapshot (every file a plain git blob)
                snap = self.folder / "snapshots" / commit
                self.trees[commit] = {p.relative_to(snap).as_posix(): {"size": p.stat().st_size,
                                                                        "blob_id": p.resolve().name}
                                      for p in sorted(snap.rglob("*")) if p.is_file()}
        return self.trees[commit]


def index_cache(*roots: Path) -> dict[str, HubRepo]:
    """Every ``models--ORG--NAME`` repository under ``roots`` (a stand-in hub's ``hub/`` and ``fastembed/``)."""
    repos: dict[str, HubRepo] = {}
    for root in roots:
        for folder in sorted(Path(root).glob("models--*")):
            repo_id = folder.name[len("models--"):].replace("--", "/", 1)
            refs = {p.name: p.read_text().strip() for p in (folder / "refs").glob("*") if p.is_file()}
            repos.setdefault(repo_id, HubRepo(repo_id, folder, refs))
    return repos


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        self.server.requests.append(f"{self.command} {self.path}")

    # ------------------------------------------------------------------ helpers
    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, code: str, message: str) -> None:
        self._send(404, json.dumps({"error": message}).encode(), {"X-Error-Code": code})

    def _json(self, obj: Any) -> None:
        self._send(200, json.dumps(obj).encode())

    def _repo_rev(self, repo_id: str, revision: str) -> tuple[HubRepo, str] | None:
        repo = self.server.repos.get(repo_id)
        if repo is None:
            self._error("RepoNotFound", f"Repository not found: {repo_id}")
            return None
        commit = repo.commit(revision)
        if commit is None:
            self._error("RevisionNotFound", f"Invalid rev id: {revision}")
            return None
        return repo, commit

    # ------------------------------------------------------------------ routes
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path.startswith("/api/models/"):
            rest = path[len("/api/models/"):].strip("/")
            if "/tree/" in rest:
                repo_id, tail = rest.split("/tree/", 1)
                revision, _, sub = tail.partition("/")
                return self._tree(repo_id, revision, sub)
            repo_id, _, revision = rest.partition("/revision/")
            return self._info(repo_id, revision or "main")
        parts = path.strip("/").split("/")
        if len(parts) >= 5 and parts[2] == "resolve":
            return self._resolve("/".join(parts[:2]), parts[3], "/".join(parts[4:]))
        self._error("EntryNotFound", f"no route for {path}")

    def _info(self, repo_id: str, revision: str) -> None:
        found = self._repo_rev(repo_id, revision)
        if found is None:
            return
        repo, commit = found
        self._json({"id": repo_id, "modelId": repo_id, "sha": commit, "private": False, "disabled": False,
                    "gated": False, "downloads": 0, "likes": 0, "tags": ["course-standin"],
                    "lastModified": "2026-01-01T00:00:00.000Z", "createdAt": "2026-01-01T00:00:00.000Z",
                    "siblings": [{"rfilename": p} for p in sorted(repo.files(commit))]})

    def _tree(self, repo_id: str, revision: str, sub: str) -> None:
        found = self._repo_rev(repo_id, revision)
        if found is None:
            return
        repo, commit = found
        entries, dirs = [], set()
        prefix = sub.strip("/") + "/" if sub.strip("/") else ""
        for rel, info in sorted(repo.files(commit).items()):
            if not rel.startswith(prefix):
                continue
            parents = rel.split("/")[:-1]
            for i in range(1, len(parents) + 1):
                dirs.add("/".join(parents[:i]))
            entry: dict[str, Any] = {"type": "file", "oid": info["blob_id"], "size": info["size"], "path": rel}
            if info.get("lfs_sha256"):
                entry["lfs"] = {"oid": info["lfs_sha256"], "size": info["lfs_size"], "pointerSize": 134}
            entries.append(entry)
        entries += [{"type": "directory", "oid": "0" * 40, "size": 0, "path": d}
                    for d in sorted(dirs) if d.startswith(prefix.rstrip("/"))]
        self._json(entries)

    def _resolve(self, repo_id: str, revision: str, rel: str) -> None:
        found = self._repo_rev(repo_id, revision)
        if found is None:
            return
        repo, commit = found
        info = repo.files(commit).get(rel)
        file = repo.folder / "snapshots" / commit / rel
        # only paths the listing names (never "..") are served
        if info is None or ".." in rel.split("/") or not file.is_file():
            return self._error("EntryNotFound", f"{rel} not found in {repo_id}@{revision}")
        etag = info.get("lfs_sha256") or info["blob_id"]
        headers = {"X-Repo-Commit": commit, "ETag": f'"{etag}"', "Accept-Ranges": "none"}
        if info.get("lfs_sha256"):
            headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(info["size"])})
        body = file.read_bytes() if self.command != "HEAD" else b""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(info["size"]))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    repos: dict[str, HubRepo]
    requests: list[str]


class StandinHubServer:
    """``with StandinHubServer(hub_dir) as s: ... s.url ...``: serve ``hub_dir/hub`` and ``hub_dir/fastembed``
    (or any cache folders given) on ``127.0.0.1`` in a background thread; :attr:`requests` logs what was asked."""

    def __init__(self, *roots: Path | str, port: int = 0) -> None:
        folders: list[Path] = []
        for root in roots:
            root = Path(root)
            subs = [root / "hub", root / "fastembed"]
            folders += [s for s in subs if s.is_dir()] or [root]
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.repos = index_cache(*folders)
        self._server.requests = []
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[str]:
        return self._server.requests

    @property
    def repos(self) -> dict[str, HubRepo]:
        return self._server.repos

    def __enter__(self) -> "StandinHubServer":
        self._thread = threading.Thread(target=self._server.serve_forever, name="standin-hub-http", daemon=True)
        self._thread.start()
        return self

    def wait(self) -> None:
        assert self._thread is not None
        self._thread.join()

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
