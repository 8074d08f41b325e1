"""Opening an input file safely, before a byte of it is parsed.

* Only a regular file is read. A FIFO, a device, a socket or a folder is refused at once — the
  file is opened non-blocking and checked with fstat on the open descriptor, so a FIFO with no
  writer or /dev/zero can never make `check` hang or eat memory.
* A symbolic link is followed only to a regular file; the message says where it points.
* At most MAX_BYTES are read (a file growing meanwhile cannot get past the limit).
* Nothing of a file that is not a department file is echoed back: `looks_like_department`
  lets the model refuse a mapping without a single known top-level key as a whole, instead of
  listing its lines (a link to /etc/shadow) as unknown keys.
* `line_separators` points at U+2028, U+2029 and NEL (U+0085), pasted from Word or the web:
  YAML breaks the line there, an editor shows none, so the text would be read differently
  from how it looks.
"""
from __future__ import annotations

import errno
import os
import re
import stat

from .problems import Location, Problem, error

MAX_BYTES = 5 * 1024 * 1024  # a real department file is ~30 KB

_KINDS = (
    (stat.S_ISDIR, "一个文件夹"),
    (stat.S_ISFIFO, "一个命名管道（FIFO）"),
    (stat.S_ISSOCK, "一个套接字（socket）"),
    (stat.S_ISCHR, "一个字符设备"),
    (stat.S_ISBLK, "一个块设备"),
)


def _kind(mode: int) -> str:
    return next((label for test, label in _KINDS if test(mode)), "一个特殊文件")


def _reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "文件不存在（请检查路径和文件名）"
    if isinstance(exc, IsADirectoryError):
        return "这是一个文件夹，不是文件"
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    if exc.errno == errno.ENXIO:
        return "这是一个套接字或没有对端的设备，不是普通文件"
    if exc.errno == errno.ELOOP:
        return "符号链接层数过多（可能是循环链接）"
    if exc.errno == errno.ENOTDIR:
        return "路径中有一段不是文件夹"
    if exc.errno == errno.ENAMETOOLONG:
        return "路径或文件名太长"
    return f"系统错误（{exc.strerror or type(exc).__name__}）"


def read_input(path: str | os.PathLike, max_bytes: int = MAX_BYTES) -> tuple[bytes | None, list[Problem]]:
    """The bytes of a department file, or None and one located problem saying why not."""
    name = str(path)
    here = Location(name)

    def refuse(message: str, rule: str = "文件读取") -> tuple[None, list[Problem]]:
        return None, [error(rule, message, here)]

    try:
        link = os.lstat(path)
    except OSError as exc:
        return refuse(f"无法读取文件：{_reason(exc)}")
    via = ""
    if stat.S_ISLNK(link.st_mode):
        try:
            target = os.readlink(os.fspath(path))
        except OSError:
            target = "?"
        via = f"符号链接（指向 {target}）"
        try:
            st = os.stat(path)
        except OSError as exc:
            return refuse(f"无法读取文件：这是一个{via}，它指向的文件{_reason(exc)}")
        if not stat.S_ISREG(st.st_mode):
            return refuse(f"无法读取文件：这是一个{via}，它指向的是{_kind(st.st_mode)}，不是普通文件；"
                          "只读取普通文件")
    elif stat.S_ISDIR(link.st_mode):
        return refuse("无法读取文件：这是一个文件夹，不是文件")
    elif not stat.S_ISREG(link.st_mode):
        return refuse(f"无法读取文件：这是{_kind(link.st_mode)}，不是普通文件；只读取普通文件"
                      "（不会等待管道或设备的输入）")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        what = f"这是一个{via}，它指向的文件" if via else ""
        return refuse(f"无法读取文件：{what}{_reason(exc)}")
    try:
        st = os.fstat(fd)  # what was opened, not what the name pointed at a moment ago
        if not stat.S_ISREG(st.st_mode):
            return refuse(f"无法读取文件：这是{_kind(st.st_mode)}，不是普通文件；只读取普通文件")
        if st.st_size > max_bytes:
            return refuse(f"文件有{st.st_size}字节，超过上限{max_bytes}字节（一个部门的预算文件通常只有几十KB）",
                          "文件过大")
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
    except OSError as exc:
        return refuse(f"无法读取文件：{_reason(exc)}")
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        return refuse(f"文件超过上限{max_bytes}字节", "文件过大")
    return raw, []


_SEPARATORS = {
    "\u2028": "Unicode 行分隔符（U+2028 LINE SEPARATOR）",
    "\u2029": "Unicode 段分隔符（U+2029 PARAGRAPH SEPARATOR）",
    "\x85": "下一行控制符（U+0085 NEL）",
}
_SEPARATOR = re.compile("[\u2028\u2029\x85]")
_LINE_END = re.compile(r"\r\n|\r|\n")


def line_separators(text: str, file: str, limit: int = 20) -> list[Problem]:
    """One located error per U+2028 / U+2029 / NEL, at the line and column an editor shows."""
    if not _SEPARATOR.search(text):
        return []
    starts = [0] + [m.end() for m in _LINE_END.finditer(text)]
    problems: list[Problem] = []
    found = list(_SEPARATOR.finditer(text))
    import bisect
    for m in found[:limit]:
        i = m.start()
        line = bisect.bisect_right(starts, i)
        col = i - starts[line - 1] + 1
        problems.append(error(
            "文件字符", f"第{line}行第{col}列有{_SEPARATORS[m.group()]}，多由从 Word 或网页复制粘贴带入："
            "YAML 会在这里断行，编辑器里却看不出，内容会被读错；请删除它（需要分段就按回车换行）",
            Location(file, line, col)))
    if len(found) > limit:
        problems.append(error("文件字符", f"同类字符另有{len(found) - limit}处未列出", problems[-1].location))
    return problems


def looks_like_department(data: object, known: set[str]) -> bool:
    """True unless `data` is a mapping without a single known top-level key (then it is some
    other file, and its keys — its content — are not echoed back as "unknown keys")."""
    if not isinstance(data, dict) or not data:
        return True
    return any(isinstance(k, str) and k in known for k in data)
