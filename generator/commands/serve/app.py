"""The editor's web application (Starlette): server-rendered pages, small JSON answers with HTML
fragments, every response testable without a browser.

Safe by default (see guard.py): every request needs the start-up token, every change also the
page's own Origin and the token in a header; only files inside the start folder are opened or
served; request bodies are bounded; what the clerk types is data, never a template.
"""
from __future__ import annotations

import datetime
import json
import threading
import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ...resources import resource_dir
from . import form, yamledit
from .amounts import normalize
from .guard import Guard, Refusal, read_body
from .session import Session, path_of

MAX_EDIT_BYTES = 1024 * 1024  # an edit, a paste of a column: far below this
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # an XLSX workbook from the budget system
YAML_SUFFIXES = (".yaml", ".yml")


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(str(resource_dir("templates") / "serve")),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False)
    env.filters["short"] = lambda v: form.short(str(v))
    env.globals["where"] = form.path_label
    return env


class Editor:
    """The application's state: the start folder, the open files, the render jobs."""

    def __init__(self, root: Path, token: str, start: str | None = None):
        self.root = root.resolve()
        self.token = token
        self.start = start  # the file named on the command line, relative to root
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()
        self.env = templates()
        self.out = self.root / "output"

    # ------------------------------------------------------------------ files in the folder

    def inside(self, name: str, must_exist: bool = True) -> Path:
        """The file `name` (relative to the start folder): refused unless it is a YAML file
        inside the folder (after following links)."""
        if not name or "\x00" in name or len(name) > 500:
            raise Refusal(404, "文件名无效")
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root):
            raise Refusal(403, "只能打开启动时所在文件夹中的文件")
        if path.suffix.lower() not in YAML_SUFFIXES:
            raise Refusal(403, "只能打开 .yaml 部门文件")
        if must_exist and not path.is_file():
            raise Refusal(404, f"文件不存在：{name}")
        return path

    def session(self, name: str) -> Session:
        path = self.inside(name)
        key = str(path.relative_to(self.root))
        with self.lock:
            if key not in self.sessions:
                try:
                    self.sessions[key] = Session(path)
                except (OSError, UnicodeDecodeError) as exc:
                    raise Refusal(400, f"无法读取 {name}：{exc}") from None
            return self.sessions[key]

    def keep_unsaved(self) -> list[Path]:
        """When the editor stops: each open file's changes not yet saved, written next to it as
        NAME.unsaved (the file itself is left as it is). Returns the copies written."""
        from ...render.output import atomic_write
        out = []
        for s in self.sessions.values():
            if s.dirty:
                copy = s.path.with_name(s.path.name + ".unsaved")
                try:
                    atomic_write(copy, s.text.encode("utf-8"))
                except OSError:
                    continue
                out.append(copy)
        return out

    def name(self, session: Session) -> str:
        return str(session.path.relative_to(self.root))

    def files(self) -> list[str]:
        """The YAML files of the folder and its subfolders one level down (a unit folder)."""
        out = []
        for pattern in ("*", "*/*"):
            for p in sorted(self.root.glob(pattern)):
                parts = p.relative_to(self.root).parts
                if p.suffix.lower() in YAML_SUFFIXES and p.is_file() and parts[0] != "output" \
                        and not any(part.startswith(".") for part in parts):
                    out.append(str(p.relative_to(self.root)))
                if len(out) >= 500:
                    return out
        return out

    # ------------------------------------------------------------------ what the page shows

    def state_json(self, s: Session) -> dict[str, Any]:
        from .computed import anchors, panels
        st = s.state()
        s.preview()
        fields: dict[str, list[dict[str, str]]] = {}
        for x in st.located:
            if x.field_id:
                fields.setdefault(x.field_id, []).append(
                    {"severity": "error" if x.problem.is_error else "warning", "message": x.message})
        computed = {}
        places = anchors(st.checked) if st.checked is not None else {}
        if st.checked is not None:
            macro = self.env.get_template("_computed.html.j2").module
            for key, panel in panels(st.checked).items():
                computed[key] = str(macro.panel(panel))  # type: ignore[attr-defined]
        problems_html = self.env.get_template("_problems.html.j2").render(state=st)
        return {"rev": s.rev, "ok": st.checked is not None and st.checked.ok, "preview_rev": s.preview_rev, "errors": st.errors, "warnings": st.warnings,
                "seconds": round(st.seconds, 3), "fields": fields, "computed": computed,
                "problems_html": problems_html, "anchors": places, "dirty": s.dirty, "undo": bool(s.history),
                "external": s.external_change(), "readable": st.result.readable}

    def page(self, s: Session) -> str:
        s.preview()
        st = s.state()
        data = st.result.doc.data if st.result.doc is not None else None
        sections = form.sections(data)
        counts: dict[str, int] = {}
        for x in st.located:
            if x.path:
                counts[str(x.path[0])] = counts.get(str(x.path[0]), 0) + 1
        return self.env.get_template("editor.html.j2").render(
            name=self.name(s), sections=sections, state=st, counts=counts, token=self.token,
            text=None if st.result.doc is not None else s.text, job=s.job,
            units=self.unit_links(s, data))

    def unit_links(self, s: Session, data: Any) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = []
        units = data.get("units") if isinstance(data, dict) else None
        for u in units if isinstance(units, list) else []:
            target = (s.path.parent / str(u)).resolve()
            ok = target.is_relative_to(self.root) and target.is_file() and target.suffix in YAML_SUFFIXES
            out.append((str(u), str(target.relative_to(self.root)) if ok else None))
        return out


# --------------------------------------------------------------------------- request handlers

def _editor(request: Request) -> Editor:
    return request.app.state.editor  # type: ignore[no-any-return]


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal(400, "请求内容不是有效的 JSON") from None
    if not isinstance(data, dict):
        raise Refusal(400, "请求内容应为 JSON 对象")
    return data


def _path(fid: Any) -> tuple:
    if not isinstance(fid, str) or not fid.startswith("f-") or len(fid) > 300:
        raise Refusal(400, "字段无效")
    path = path_of(fid)
    if not path or not form.in_schema(path):
        raise Refusal(400, "字段无效")
    return path


def _value_for(path: tuple, value: Any) -> str:
    if not isinstance(value, str):
        raise Refusal(400, "值应为文字")
    if len(value) > 20000:
        raise Refusal(413, "内容太长")
    kind = _kind_at(path)
    if kind in ("amount", "quantity"):
        return normalize(value, 2 if kind == "amount" else 4)
    if kind in ("fcode", "ecode"):
        return normalize_code(value)
    return value


def normalize_code(value: str) -> str:
    import unicodedata
    return unicodedata.normalize("NFKC", value).strip()


def _kind_at(path: tuple) -> str:
    s: dict[str, Any] = form.schema()
    for key in path:
        s = form.resolve(s)
        if isinstance(key, int):
            s = s.get("items", {})
        else:
            s = s.get("properties", {}).get(key, {})
    return form.input_kind(form.resolve(s))


def _refuse_code(editor: Editor, s: Session, path: tuple, value: str) -> None:
    """A 功能分类 code that is not in the file year's catalog (nor the file's own `catalog:`)
    is refused by the picker: it would print under no 类/款."""
    kind = _kind_at(path)
    if kind not in ("fcode", "ecode") or not value:
        return
    catalog = _catalog(s)
    if catalog is None:
        return
    known = catalog.function_name(value) if kind == "fcode" else catalog.economic_name(value)
    if known is None and value.isdigit() and len(value) == (7 if kind == "fcode" else 5):
        year = catalog.year or ""
        what = "支出功能分类" if kind == "fcode" else "部门预算支出经济分类"
        raise Refusal(422, f"编码 {value} 不在 {year} 年的{what}科目中（可能是其他年度的编码）：请从列表中选择本年度的科目")


def _catalog(s: Session) -> Any:
    from ...catalog import catalog_for, load_catalog
    st = s.state()
    if st.checked is not None:
        return catalog_for(st.checked.budget)
    data = st.result.doc.data if st.result.doc is not None else None
    year = None
    if isinstance(data, dict) and isinstance(data.get("department"), dict):
        y = str(data["department"].get("year") or "")
        year = int(y) if y.isdigit() else None
    return load_catalog(year)


def index(request: Request, body: bytes) -> Response:
    """The file named on the command line, or the folder's list."""
    editor = _editor(request)
    if editor.start:
        return RedirectResponse(f"/edit?file={_q(editor.start)}", status_code=303)
    return files(request, body)


def files(request: Request, body: bytes) -> Response:
    """The department files of the start folder, `new` and import."""
    editor = _editor(request)
    from ...layout import builtin_keys
    html = editor.env.get_template("folder.html.j2").render(
        files=editor.files(), root=str(editor.root), token=editor.token,
        editions=sorted(builtin_keys(), reverse=True), year=datetime.date.today().year + 1)
    return HTMLResponse(html)


def _q(name: str) -> str:
    from urllib.parse import quote
    return quote(name)


def edit_page(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    s = editor.session(request.query_params.get("file", ""))
    return HTMLResponse(editor.page(s))


def state(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    s = editor.session(request.query_params.get("file", ""))
    if request.query_params.get("light"):
        return JSONResponse({"external": s.external_change(), "dirty": s.dirty, "rev": s.rev})
    return JSONResponse(editor.state_json(s))


def edit(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    data = _json_body(body)
    s = editor.session(str(data.get("file", "")))
    changes = data.get("changes")
    if not isinstance(changes, list) or not changes or len(changes) > 5000:
        raise Refusal(400, "没有要修改的内容")
    pairs = []
    for c in changes:
        if not isinstance(c, dict):
            raise Refusal(400, "修改内容无效")
        path = _path(c.get("id"))
        value = _value_for(path, c.get("value"))
        _refuse_code(editor, s, path, value)
        pairs.append((path, value))
    try:
        s.set_values(pairs, coalesce=bool(data.get("typing")),
                     new_row=form.new_item if data.get("grow") is True else None)
    except yamledit.EditError as exc:
        raise Refusal(422, str(exc)) from None
    out = editor.state_json(s)
    out["values"] = {c.get("id"): v for c, (_, v) in zip(changes, pairs)}
    return JSONResponse(out)


def rows(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    data = _json_body(body)
    s = editor.session(str(data.get("file", "")))
    path = _path(data.get("list"))
    op = data.get("op")
    index = data.get("index")
    try:
        if op == "add":
            at = index if isinstance(index, int) else None
            s.add_item(path, form.new_item(path), at)
        elif op in ("remove", "up", "down") and isinstance(index, int):
            if op == "remove":
                s.remove_item(path, index)
            else:
                s.move_item(path, index, -1 if op == "up" else 1)
        else:
            raise Refusal(400, "操作无效")
    except KeyError:
        raise Refusal(400, "此处不是列表") from None
    except yamledit.EditError as exc:
        raise Refusal(422, str(exc)) from None
    return JSONResponse(editor.state_json(s))


def undo(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    data = _json_body(body)
    s = editor.session(str(data.get("file", "")))
    if not s.undo():
        raise Refusal(409, "没有可以撤销的修改")
    return JSONResponse(editor.state_json(s))


def save(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    data = _json_body(body)
    s = editor.session(str(data.get("file", "")))
    try:
        backup = s.save(overwrite=data.get("overwrite") is True)
    except OSError as exc:
        raise Refusal(500, f"保存失败：{exc.strerror or exc}") from None
    if backup is None:
        return JSONResponse({"saved": False, "external": True,
                             "message": "文件已在页面之外被修改：请选择载入外部版本，或用页面上的内容覆盖它"},
                            status_code=409)
    out = editor.state_json(s)
    still = f"；文件仍有{out['errors']}处错误，改正后才能生成 PDF/XLSX" if out["errors"] else ""
    out.update(saved=True, message=f"已保存 {editor.name(s)}（原文件备份为 {backup.name}）{still}")
    return JSONResponse(out)


def reload(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    data = _json_body(body)
    s = editor.session(str(data.get("file", "")))
    s.reload()
    return JSONResponse(editor.state_json(s))


def preview(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    s = editor.session(request.query_params.get("file", ""))
    html = s.preview()
    if html is None:
        html = editor.env.get_template("no_preview.html.j2").render()
    # the preview is the disclosure's own HTML: no script runs in it
    return HTMLResponse(html, headers={"Content-Security-Policy": "script-src 'none'; object-src 'none'"})


def codes(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    s = editor.session(request.query_params.get("file", ""))
    q = normalize_code(request.query_params.get("q", ""))[:40]
    kind = request.query_params.get("kind", "fcode")
    catalog = _catalog(s)
    found = []
    if q:
        names = catalog.function_names if kind == "fcode" else catalog.economic_names
        width = 7 if kind == "fcode" else 5
        if q.isdigit():
            hits = [c for c in sorted(names) if c.startswith(q)]
        else:
            hits = [e.code for e in catalog.search(q) if e.code in names]
        for code in hits:
            if len(code) == width:
                parents = " › ".join(e.name for e in catalog.parents(code))
                found.append({"code": code, "name": names[code], "path": parents})
            if len(found) >= 30:
                break
    html = editor.env.get_template("_codes.html.j2").render(found=found, q=q, year=catalog.year)
    return HTMLResponse(html)


def render_start(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    data = _json_body(body)
    s = editor.session(str(data.get("file", "")))
    formats = tuple(f for f in ("pdf", "xlsx") if f in (data.get("formats") or ["pdf", "xlsx"]))
    from .render_job import start
    start(s, editor.out, formats or ("pdf", "xlsx"))
    return JSONResponse(job_json(editor, s))


def job_json(editor: Editor, s: Session) -> dict[str, Any]:
    job = s.job
    html = editor.env.get_template("_job.html.j2").render(job=job, name=editor.name(s),
                                                          elapsed=time.monotonic() - job.started if job.started else 0)
    return {"status": job.status, "html": html}


def render_status(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    s = editor.session(request.query_params.get("file", ""))
    return JSONResponse(job_json(editor, s))


def download(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    s = editor.session(request.query_params.get("file", ""))
    fmt = request.query_params.get("fmt", "")
    for out in s.job.outputs:
        p = Path(out).resolve()
        if p.suffix == f".{fmt}" and p.is_relative_to(editor.root) and p.is_file():
            media = {"pdf": "application/pdf",
                     "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[fmt]
            return FileResponse(p, media_type=media, filename=p.name)
    raise Refusal(404, "还没有生成这个文件")


def new_file(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    data = _json_body(body)
    from ..starter import starter_text
    name = str(data.get("name", "")).strip()
    if not name.lower().endswith(YAML_SUFFIXES):
        name += ".yaml"
    path = editor.inside(name, must_exist=False)
    if path.exists():
        raise Refusal(409, f"{name} 已存在")
    try:
        year = int(str(data.get("year") or "0")) or None
        text = starter_text(str(data.get("edition") or "") or None, year)
    except ValueError as exc:
        raise Refusal(422, str(exc)) from None
    from ...render.output import write_file
    write_file(path, text.encode("utf-8"))
    return JSONResponse({"url": f"/edit?file={_q(str(path.relative_to(editor.root)))}"})


def import_book(request: Request, body: bytes) -> Response:
    editor = _editor(request)
    name = request.query_params.get("name", "").strip()
    book = request.query_params.get("book", "book.xlsx")
    if not name.lower().endswith(YAML_SUFFIXES):
        name += ".yaml"
    path = editor.inside(name, must_exist=False)
    if path.exists():
        raise Refusal(409, f"{name} 已存在")
    suffix = ".xls" if book.lower().endswith(".xls") else ".xlsx"
    import tempfile

    from ...importer import import_workbook
    from ...render.output import write_file
    with tempfile.TemporaryDirectory() as tmp:
        upload = Path(tmp) / f"upload{suffix}"
        upload.write_bytes(body)
        result = import_workbook(upload)
    if result.text is None:
        messages = [f"{p.location}：{p.message}".replace(str(upload), book) for p in result.problems[:30]]
        return JSONResponse({"message": "未能导入：" + "；".join(messages) if messages else "未能导入"},
                            status_code=422)
    write_file(path, result.text.encode("utf-8"))
    return JSONResponse({"url": f"/edit?file={_q(str(path.relative_to(editor.root)))}"})


def static(request: Request, body: bytes) -> Response:
    name = request.path_params["name"]
    allowed = {"editor.js": "text/javascript", "editor.css": "text/css"}
    if name not in allowed:
        raise Refusal(404, "没有这个文件")
    return FileResponse(resource_dir("templates") / "serve" / name, media_type=allowed[name],
                        headers={"Cache-Control": "no-cache"})


def _handle(fn: Any, limit: int = MAX_EDIT_BYTES) -> Any:
    """The route for `fn(request, body)`: the body read here (at most `limit` bytes), the work
    done in a worker thread (a check or a render never holds up the other requests), a
    Refusal answered as JSON (/api/…) or as a page."""
    async def wrapped(request: Request) -> Response:
        try:
            body = b"" if request.method in ("GET", "HEAD") else await read_body(request, limit)
            return await run_in_threadpool(fn, request, body)  # type: ignore[no-any-return]
        except Refusal as exc:
            if request.url.path.startswith("/api/"):
                return JSONResponse({"message": exc.message}, status_code=exc.status)
            return HTMLResponse(_editor(request).env.get_template("refused.html.j2").render(message=exc.message),
                                status_code=exc.status)
    return wrapped


def create_app(root: Path, start: str | None = None, token: str | None = None,
               hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Starlette:
    """The application for the start folder `root`; `start`: the file to open (relative to
    root); `hosts`: the host names the page may be reached as (the port is not checked)."""
    import secrets
    editor = Editor(root, token or secrets.token_urlsafe(24), start)
    routes = [Route("/", _handle(index)), Route("/files", _handle(files)), Route("/edit", _handle(edit_page)),
              Route("/preview", _handle(preview)), Route("/download", _handle(download)),
              Route("/static/{name}", _handle(static)),
              Route("/api/state", _handle(state)), Route("/api/codes", _handle(codes)),
              Route("/api/render", _handle(render_status)),
              Route("/api/edit", _handle(edit), methods=["POST"]),
              Route("/api/rows", _handle(rows), methods=["POST"]),
              Route("/api/undo", _handle(undo), methods=["POST"]),
              Route("/api/save", _handle(save), methods=["POST"]),
              Route("/api/reload", _handle(reload), methods=["POST"]),
              Route("/api/render", _handle(render_start), methods=["POST"]),
              Route("/api/new", _handle(new_file), methods=["POST"]),
              Route("/api/import", _handle(import_book, MAX_UPLOAD_BYTES), methods=["POST"])]
    app = Starlette(routes=routes)
    app.state.editor = editor
    app.add_middleware(Guard, token=editor.token, hosts=hosts)
    return app
