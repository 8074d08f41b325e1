"""The editor's door: who may talk to it, and how much.

- Host: only the names the server was started as (127.0.0.1, localhost) — a web page that
  rebinds its own DNS name to 127.0.0.1 is refused.
- Token: a random token, given in the URL the command prints and opens (as Jupyter does). The
  first request carrying it in the query sets an HttpOnly, SameSite=Strict cookie; every
  request needs the token (query, cookie or the X-Budgetgen-Token header).
- A change (any method but GET/HEAD) also needs the token in the X-Budgetgen-Token header,
  which only the page's own script sends, and an Origin header naming this server: another
  site's page can neither read the token nor make the browser send it.
- Bodies are bounded: a declared Content-Length over the limit is refused before reading, and
  `read_body` stops reading at the limit.
"""
from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse

HEADER = "x-budgetgen-token"
COOKIE = "budgetgen_token"
MAX_BODY = 20 * 1024 * 1024 + 65536


class Refusal(Exception):
    """A request refused with an HTTP status and a message for the clerk (Chinese)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


class Guard:
    """ASGI middleware: refuses (403/413/421) before the application sees the request."""

    def __init__(self, app: Any, token: str, hosts: tuple[str, ...]):
        self.app, self.token, self.hosts = app, token, hosts

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self.check(scope, headers)
        if refusal is not None:
            status, message = refusal
            await PlainTextResponse(message, status_code=status)(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = (query.get("token") or [""])[0]
        if given and _same(given, self.token) and scope["method"] == "GET":
            cookie_set = False

            async def send_with_cookie(message: dict) -> None:
                nonlocal cookie_set
                if message["type"] == "http.response.start" and not cookie_set:
                    cookie_set = True
                    value = f"{COOKIE}_{self.port(headers)}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                    message.setdefault("headers", []).append((b"set-cookie", value.encode("latin-1")))
                await send(message)
            await self.app(scope, receive, send_with_cookie)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def port(headers: dict[str, str]) -> str:
        host = headers.get("host", "")
        return host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else "80"

    def check(self, scope: dict, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        name = host.rsplit(":", 1)[0] if ":" in host and not host.endswith("]") else host
        if name not in self.hosts:
            return 421, "拒绝：主机名不对（编辑器只接受 127.0.0.1 或 localhost）"
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return 413, "拒绝：请求过大"
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        cookies = Request(scope).cookies
        candidates = [(query.get("token") or [""])[0], headers.get(HEADER, ""),
                      cookies.get(f"{COOKIE}_{self.port(headers)}", "")]
        if not any(c and _same(c, self.token) for c in candidates):
            return 403, "拒绝：缺少或错误的访问令牌（请使用 budgetgen serve 打印的完整网址打开）"
        if scope["method"] not in ("GET", "HEAD"):
            if not _same(headers.get(HEADER, ""), self.token):
                return 403, "拒绝：修改请求缺少页面的令牌"
            origin = headers.get("origin", "")
            parts = urlsplit(origin)
            if not origin or parts.scheme != "http" or parts.netloc != host:
                return 403, "拒绝：请求不是来自编辑器页面（Origin 不符）"
        return None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (Refusal 413) past `limit` bytes however it is sent."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"请求过大（上限 {limit // 1024} KB）")
        chunks.append(chunk)
    return b"".join(chunks)
