"""`budgetgen serve [DEPT.yaml | FOLDER]`: the clerk's editor in the browser.

A local web page (Starlette + uvicorn, the optional extra `pip install .[serve]`) with a form
for every section of the department file, generated from the JSON Schema; every change is
written into the file's text in place (comments and layout kept), checked by the same pipeline
as `check`, and shown with its problems at their fields, the totals the disclosure prints, and
a live HTML preview; PDF and XLSX are rendered on request. Listens on 127.0.0.1 only, with a
random token in the URL. Modules: app.py (routes), guard.py (token, origin, sizes),
session.py (the open file), yamledit.py (in-place edits), form.py (schema → form),
computed.py (totals), amounts.py (typed amounts), render_job.py (PDF/XLSX).
"""
from __future__ import annotations

import os
import secrets
import sys
import threading
import webbrowser
from pathlib import Path

import typer

SERVE_EXTRA = "pip install 'budgetgen[serve]'"


def missing_extra() -> str | None:
    """The name of a missing optional dependency, or None."""
    import importlib.util
    for module in ("starlette", "uvicorn"):
        if importlib.util.find_spec(module) is None:
            return module
    return None


def has_display() -> bool:
    """A browser can be opened: a desktop session (or macOS/Windows)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def serve_cmd(
    target: Path = typer.Argument(Path("."), help="部门 YAML 文件，或含部门文件的文件夹（默认当前文件夹）"),
    port: int = typer.Option(0, "--port", help="端口（默认自动选择空闲端口）"),
    no_browser: bool = typer.Option(False, "--no-browser", help="不自动打开浏览器，只打印网址"),
) -> None:
    """在浏览器中编辑部门文件：表单、随输随算的合计与检查、实时预览，生成 PDF/XLSX（只在本机 127.0.0.1）。"""
    missing = missing_extra()
    if missing:
        typer.echo(f"budgetgen serve 需要可选依赖（缺少 {missing}）：请运行 {SERVE_EXTRA}", err=True)
        raise typer.Exit(2)
    if not target.exists():
        typer.echo(f"{target} 不存在", err=True)
        raise typer.Exit(2)
    if target.is_dir():
        root, start = target.resolve(), None
    else:
        if target.suffix.lower() not in (".yaml", ".yml"):
            typer.echo(f"{target} 不是 .yaml 部门文件", err=True)
            raise typer.Exit(2)
        root, start = target.resolve().parent, target.resolve().name
    import socket

    import uvicorn

    from .app import create_app
    token = secrets.token_urlsafe(24)
    app = create_app(root, start, token)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        typer.echo(f"无法在 127.0.0.1:{port} 上监听：{exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    sock.listen(128)  # connections wait from now on, even before the server has started
    actual = sock.getsockname()[1]
    url = f"http://127.0.0.1:{actual}/?token={token}"
    typer.echo(f"budgetgen 编辑器：{url}")
    typer.echo(f"文件夹：{root}（只能打开其中的文件）；按 Ctrl-C 停止")
    if not no_browser and has_display():
        threading.Timer(0.8, lambda: webbrowser.open(url)).start()
    config = uvicorn.Config(app, log_level="warning", limit_concurrency=64, timeout_keep_alive=30)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    for path in app.state.editor.keep_unsaved():
        typer.echo(f"注意：页面上没有保存的修改已另存为 {path}（原文件未改动）", err=True)
    typer.echo("编辑器已停止")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
