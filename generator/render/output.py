"""Writing outputs safely: sanitized names, one folder per department switched atomically.

A department's outputs (PDF, XLSX, HTML of one render) are one set. They live together in a
folder named like the files (``out/524-名称-2025/524-名称-2025.pdf``). A render writes the new
set into ``set/`` inside a hidden staging folder beside it (``.524-名称-2025.XXXXXXXX.new``, a
random part and a marker file ``.budgetgen-staging`` naming the stem), fsyncs every file and
the folder, then switches ``set/`` and the published folder in one step
(renameat2 RENAME_EXCHANGE on Linux; elsewhere two renames, so for an instant the folder is
absent, but never mixed). Whatever fails before the switch — a full disk, a file-size limit, a
permission, a kill — leaves the previous complete set untouched; the staging folder is removed
at once, or, after a kill, by the next render into the same output folder (a staging folder is
locked with flock while its writer lives, so only dead writers' folders are removed).

Only what is provably budgetgen's is ever removed: a real folder (not a link) whose name is
``.<stem>.<8 random characters>.new`` or ``.old``, holding the marker file with that same stem.
Anything else in the output folder — a clerk's ``.notes.old``, a folder named ``.new``, a file
or a link named like a staging folder, a look-alike without the marker — is left exactly as it
was.

Single files (`new`, `roll`, `schema`) go through `write_file`: a temporary file in the same
folder, fsync, rename. Special files (devices, FIFOs, sockets), symlinks and folders are never
replaced, with or without --force. OS errors become `OutputError`, a Chinese message naming the
path and what to do.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import unicodedata
from pathlib import Path
from collections.abc import Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
# Characters that draw nothing or look like a space but are not one: "名称\u202egpj.exe" would
# display as a different file name than it is. Format (Cf: zero-width, BOM, direction marks,
# tags U+E0000…), line/paragraph separators (Zl, Zp), controls, private use, unassigned, variation
# selectors, and the Hangul/halfwidth fillers (letters by category, blank on screen).
_FILLERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u180e"}
_DROP_CATEGORIES = {"Cf", "Zl", "Zp", "Cc", "Co", "Cs", "Cn"}
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}
# NAME_MAX is 255 bytes on Linux/macOS; the staging folder adds ".", ".XXXXXXXX.new" and a file
# inside adds ".xlsx" — 180 leaves room for both
MAX_STEM_BYTES = 180
MAX_CODE_BYTES = 60  # a longer code is shortened with a digest, so the year always stays

_FAULT_ENV = "BUDGETGEN_FAULT_KILL_AT"  # tests: SIGKILL this process at the k-th commit step
_NO_EXCHANGE_ENV = "BUDGETGEN_FAULT_NO_EXCHANGE"  # tests: use the two-rename fallback
_steps = 0


class OutputError(Exception):
    """An output could not be written; `str()` is the Chinese message for the clerk."""

    def __init__(self, path: object, message: str):
        super().__init__(message)
        self.path = str(path)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- names


def _invisible(ch: str) -> bool:
    if ch in _FILLERS:
        return True
    if "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef":  # variation selectors
        return True
    return unicodedata.category(ch) in _DROP_CATEGORIES


def _drop_invisible(text: str) -> str:
    """Remove invisible characters, and combining marks that have no base character left
    (a mark at the start, after a space or after a removed character)."""
    out: list[str] = []
    base = False
    for ch in text:
        if _invisible(ch):
            base = False
            continue
        if unicodedata.category(ch) in ("Mn", "Me"):
            if base:
                out.append(ch)
            continue
        out.append(ch)
        base = not ch.isspace()
    return "".join(out)


def _clean(part: object) -> str:
    text = _drop_invisible(unicodedata.normalize("NFC", str(part)))
    text = unicodedata.normalize("NFC", text)
    text = _FORBIDDEN.sub("_", text)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\.{2,}", "_", text).strip(" .")


def _fit(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, cut on a character boundary, no trailing dot or space."""
    return text.encode("utf-8")[:max(limit, 0)].decode("utf-8", "ignore").rstrip(" .")


def _short(text: str, limit: int) -> str:
    """`text` if it fits `limit` bytes, else its head and a digest of the whole (so two long
    codes that share a head still get different names)."""
    if len(text.encode("utf-8")) <= limit:
        return text
    import hashlib
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return f"{_fit(text, limit - 12)}~{digest}"


def safe_stem(*parts: object, limit: int = MAX_STEM_BYTES) -> str:
    """A file-name stem from parts, safe on Windows and POSIX: no separators, no '..', no
    invisible characters, at most `limit` UTF-8 bytes. When it must be shortened, the middle
    parts (the department name) are cut; the first (code, shortened with a digest when very
    long) and the last (year) are always kept."""
    cleaned = [c for c in (_clean(p) for p in parts) if c]
    text = "-".join(cleaned)
    if len(text.encode("utf-8")) > limit and len(cleaned) >= 2:
        tail = _fit(cleaned[-1], 16)
        head = _short(cleaned[0], min(MAX_CODE_BYTES, limit - len(tail.encode("utf-8")) - 1))
        room = limit - len(head.encode("utf-8")) - len(tail.encode("utf-8")) - 2
        middle = _fit("-".join(cleaned[1:-1]), room) if len(cleaned) >= 3 else ""
        text = "-".join(x for x in (head, middle, tail) if x)
    text = _fit(text, limit)
    if not text or text.upper().split(".")[0].rstrip() in _RESERVED:
        text = f"_{text}"
    return text


def output_stem(code: str, name: str, year: int) -> str:
    return safe_stem(code, name, year)


def same_name_key(stem: str) -> str:
    """Two stems that name the same file on a case-insensitive file system (Windows, macOS)."""
    return unicodedata.normalize("NFC", stem).casefold()


# --------------------------------------------------------------------------- OS errors


def describe_os_error(exc: OSError, path: object) -> str:
    """What went wrong writing `path`, and what to do, in Chinese."""
    where = str(getattr(exc, "filename", None) or path)
    code = exc.errno
    reasons = {
        errno.ENOSPC: "磁盘空间已满：请清理磁盘或换一个输出位置",
        errno.EDQUOT: "超出了磁盘配额：请清理文件或换一个输出位置",
        errno.EFBIG: "文件超过了系统允许的大小上限（ulimit -f）：请放宽限制或换一台机器生成",
        errno.EROFS: "所在的磁盘是只读的：请换一个可写的输出位置",
        errno.EACCES: "没有写入权限：请换一个输出位置，或请管理员开放权限",
        errno.EPERM: "操作不被允许（权限或文件属性）：请换一个输出位置",
        errno.ENOTDIR: "路径中有一段不是文件夹：请检查输出路径",
        errno.EISDIR: "这是一个文件夹：请写出文件名",
        errno.ENAMETOOLONG: "路径或文件名太长：请换一个较短的输出路径",
        errno.ENOENT: "路径中的文件夹不存在：请先建好，或检查输出路径",
        errno.EIO: "磁盘读写出错（硬件或网络盘故障）：请检查磁盘后重试",
        errno.EEXIST: "同名文件已存在",
        errno.ENOTEMPTY: "目标文件夹不是空的",
        errno.EXDEV: "不能跨磁盘移动：请把输出目录放在同一个磁盘上",
        errno.ELOOP: "路径中有循环的符号链接",
        errno.EMFILE: "同时打开的文件太多：请减少并行进程数（-j）",
    }
    reason = reasons.get(code if code is not None else -1,
                         f"系统错误（{exc.strerror or type(exc).__name__}）：请检查输出路径和磁盘")
    return f"无法写入 {where}：{reason}"


@contextlib.contextmanager
def _os_errors(path: object) -> Iterator[None]:
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(path, describe_os_error(exc, path)) from exc


# --------------------------------------------------------------------------- fault hooks, fsync


def _step(name: str) -> None:
    """A commit step; tests set BUDGETGEN_FAULT_KILL_AT=k to SIGKILL the process at step k."""
    global _steps
    at = os.environ.get(_FAULT_ENV)
    if not at:
        return
    _steps += 1
    if at.isdigit() and _steps == int(at):
        sys.stderr.write(f"[fault] SIGKILL at step {_steps} ({name})\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems cannot fsync a folder; not an error there
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _write_fd(fd: int, path: Path, data: bytes) -> None:
    """Write all of `data` to the open file `fd`, fsync, close; mode 0644."""
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, 0o644)  # not the umask's choice: published files are readable


def _write_new(path: Path, data: bytes) -> None:
    """Create `path` (must not exist), write all of `data`, fsync."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    _write_fd(fd, path, data)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGALRM/SIGTERM/SIGINT while the set is switched (a few system calls)."""
    sigs = {signal.SIGALRM, signal.SIGTERM, signal.SIGINT}
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    switched = False
    try:
        yield
        switched = True
    finally:
        if switched and signal.SIGALRM in signal.sigpending():
            signal.sigwait({signal.SIGALRM})  # the set is published: a time limit now is moot
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# --------------------------------------------------------------------------- atomic exchange

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2). False when the system cannot."""
    if not sys.platform.startswith("linux") or os.environ.get(_NO_EXCHANGE_ENV):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # file system without exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def _replace_by_two_renames(ready: Path, target: Path, out_dir: Path, stem: str) -> None:
    """Without an atomic exchange: move the old set aside into a locked, marked `.old` folder,
    move the new one (`ready`) in; if that fails, or the process is killed in between, the old
    set goes back (here, or by the next render's `_remove_stale`)."""
    old = _make_staging(out_dir, stem, ".old")
    fd = os.open(old, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        _lock(fd)
        os.rename(target, old / "set")
        _step("moved old set aside")
        try:
            os.rename(ready, target)
        except BaseException:
            os.rename(old / "set", target)
            raise
    finally:
        os.close(fd)
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- the department set


def _lock(fd: int, blocking: bool = True) -> bool:
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return True
    except OSError:
        return False


MARKER = ".budgetgen-staging"  # inside every staging folder: proof that it is budgetgen's
_MARKER_TEXT = "budgetgen staging folder\n{stem}\n"
# tempfile's random part: 8 characters of [a-z0-9_]
_STAGING_NAME = re.compile(r"\.(?P<stem>.+)\.(?P<random>[a-z0-9_]{8})\.(?P<kind>new|old)")


def _make_staging(out_dir: Path, stem: str, suffix: str) -> Path:
    """A new staging folder `.<stem>.<random>.new|.old` with its marker file inside."""
    path = Path(tempfile.mkdtemp(prefix=f".{stem}.", suffix=suffix, dir=out_dir))
    try:
        _write_new(path / MARKER, _MARKER_TEXT.format(stem=stem).encode("utf-8"))
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return path


def staging_stem(out_dir: Path, name: str) -> str | None:
    """The stem of `out_dir/name` when it is provably one of budgetgen's staging folders — a
    real folder named `.<stem>.<random>.new|.old` holding the marker file (a regular file, not
    a link) that names the same stem; else None (not ours: never touched)."""
    m = _STAGING_NAME.fullmatch(name)
    if m is None or "/" in m["stem"] or m["stem"] in (".", ".."):
        return None
    path = out_dir / name
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return None
        fd = os.open(path / MARKER, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        text = os.read(fd, 1024)
    except OSError:
        return None
    finally:
        os.close(fd)
    if text != _MARKER_TEXT.format(stem=m["stem"]).encode("utf-8"):
        return None
    return m["stem"]


def _remove_stale(out_dir: Path) -> None:
    """Remove staging folders whose writer is gone (they are not locked any more); only
    folders that are provably budgetgen's (`staging_stem`)."""
    try:
        names = os.listdir(out_dir)
    except OSError:
        return
    for name in names:
        stem = staging_stem(out_dir, name)
        if stem is None:
            continue
        path = out_dir / name
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if _lock(fd, blocking=False):
                # a kill between the two renames of the fallback: put the previous set back
                target = out_dir / stem
                if name.endswith(".old") and os.path.isdir(path / "set") \
                        and not os.path.islink(path / "set") and not os.path.lexists(target):
                    with contextlib.suppress(OSError):
                        os.rename(path / "set", target)
                if staging_stem(out_dir, name) == stem:  # still ours after the lock was taken
                    shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)


def _check_published(target: Path, names: set[str]) -> None:
    """The folder a set replaces must be one budgetgen wrote: a real folder (not a link or a
    file) holding only this department's output files. Anything else is never replaced."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(target, f"无法写入 {target}：这是一个符号链接，budgetgen 不会替换它；"
                          "请删除它或换一个输出目录")
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(target, f"无法写入 {target}：已有同名的{_kind(st.st_mode)}，budgetgen 不会替换它；"
                          "请移走它或换一个输出目录")
    stem = target.name
    allowed = {f"{stem}.{ext}" for ext in ("pdf", "xlsx", "html")} | names
    others = sorted(set(os.listdir(target)) - allowed)
    if others:
        shown = "、".join(others[:3]) + ("等" if len(others) > 3 else "")
        raise OutputError(target, f"无法写入 {target}：文件夹里还有不是本程序生成的文件（{shown}），"
                          "为免误删，不替换这个文件夹；请移走这些文件或换一个输出目录")


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "文件"
    if stat.S_ISDIR(mode):
        return "文件夹"
    if stat.S_ISLNK(mode):
        return "符号链接"
    if stat.S_ISFIFO(mode):
        return "命名管道（FIFO）"
    if stat.S_ISSOCK(mode):
        return "套接字"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "设备文件"
    return "特殊文件"


def prepare_out_dir(out_dir: Path) -> Path:
    """The output folder, created if missing; a file, device, FIFO or socket there is refused."""
    out_dir = Path(out_dir)
    with _os_errors(out_dir):
        try:
            st = os.stat(out_dir)  # a symlink to a folder is fine: files go inside it
        except FileNotFoundError:
            out_dir.mkdir(parents=True, exist_ok=True)
            return out_dir
        if not stat.S_ISDIR(st.st_mode):
            raise OutputError(out_dir, f"无法写入 {out_dir}：输出位置是一个{_kind(st.st_mode)}，不是文件夹；"
                              "-o 应指定一个文件夹")
    return out_dir


def department_folder(out_dir: Path | str, stem: str) -> Path:
    return Path(out_dir) / stem


def commit_set(out_dir: Path | str, stem: str, files: dict[str, bytes]) -> list[Path]:
    """Publish `files` ({extension: bytes}) as the department's complete output set in
    out_dir/stem/, replacing the previous set in one step. Returns the published paths.
    Raises OutputError (nothing changed, nothing left behind) when anything cannot be written."""
    out_dir = prepare_out_dir(Path(out_dir))
    target = department_folder(out_dir, stem)
    names = {f"{stem}.{ext}": data for ext, data in files.items()}
    with _os_errors(target):
        _check_published(target, set(names))
        dir_fd = os.open(out_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    staging: Path | None = None
    lock_fd = -1
    try:
        with _os_errors(target):
            _lock(dir_fd)  # serialize creating and cleaning staging folders in this folder
            try:
                _remove_stale(out_dir)  # every dead writer's leftovers, any department
                staging = _make_staging(out_dir, stem, ".new")
                lock_fd = os.open(staging, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
                _lock(lock_fd)
                ready: Path = staging / "set"
                os.mkdir(ready, 0o755)
            finally:
                if fcntl is not None:
                    fcntl.flock(dir_fd, fcntl.LOCK_UN)
            _step("staging")
        for name, data in names.items():
            with _os_errors(out_dir / stem / name):
                _write_new(ready / name, data)
            _step(f"write {name}")
        with _os_errors(target):
            os.chmod(ready, 0o755)
            _fsync_dir(ready)
            _step("fsync")
            with _signals_deferred():
                if os.path.lexists(target):
                    _check_published(target, set(names))
                    if not _exchange(ready, target):
                        _replace_by_two_renames(ready, target, out_dir, stem)
                else:
                    try:
                        os.rename(ready, target)
                    except OSError as exc:  # another writer published it meanwhile
                        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                            raise
                        _check_published(target, set(names))
                        if not _exchange(ready, target):
                            _replace_by_two_renames(ready, target, out_dir, stem)
                _step("switched")
                _fsync_dir(out_dir)
    finally:
        # the staging folder (still marked: after an exchange it holds the previous set, after
        # a failure the unfinished one) goes; after a kill the next render removes it
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if lock_fd >= 0:
            os.close(lock_fd)
        os.close(dir_fd)
    _step("cleaned")
    return [target / name for name in names]


# --------------------------------------------------------------------------- single files


def check_output_file(path: Path | str, force: bool) -> None:
    """Refuse to write over anything but a regular file, and over a regular file without
    --force. Raises OutputError."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        parent = path.parent if str(path.parent) else Path(".")
        try:
            pst = os.stat(parent)
        except FileNotFoundError:
            raise OutputError(path, f"无法写入 {path}：文件夹 {parent} 不存在；请先建好，或检查路径") from None
        except OSError as exc:
            raise OutputError(path, describe_os_error(exc, parent)) from None
        if not stat.S_ISDIR(pst.st_mode):
            raise OutputError(path, f"无法写入 {path}：{parent} 不是文件夹") from None
        return
    except OSError as exc:
        raise OutputError(path, describe_os_error(exc, path)) from None
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        raise OutputError(path, f"不写入 {path}：这是一个符号链接，写入会改动它指向的文件；"
                          "请写到普通文件（--force 也只覆盖普通文件）")
    if stat.S_ISDIR(mode):
        raise OutputError(path, f"不写入 {path}：这是一个文件夹；-o 应为文件名（要写在这个文件夹里，"
                          f"请写成 {path}/文件名）")
    if not stat.S_ISREG(mode):
        raise OutputError(path, f"不写入 {path}：这是一个{_kind(mode)}，不是普通文件"
                          "（--force 也只覆盖普通文件）；要输出到屏幕请用 -o -")
    if not force:
        raise OutputError(path, f"{path} 已存在；如要覆盖请加 --force")


def write_file(path: Path | str, data: bytes, force: bool = False) -> None:
    """Write one file atomically (temporary file in the same folder, fsync, rename).
    `-` writes to standard output. Raises OutputError."""
    if str(path) == "-":
        out = sys.stdout.buffer
        out.write(data)
        out.flush()
        return
    path = Path(path)
    check_output_file(path, force)
    parent = path.parent if str(path.parent) else Path(".")
    tmp = None
    with _os_errors(path):
        try:
            fd, name = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=parent)
            tmp = Path(name)
            _write_fd(fd, tmp, data)
            check_output_file(path, force)  # still not a special file
            os.replace(tmp, path)
            tmp = None
            _fsync_dir(parent)
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def atomic_write(path: Path, data: bytes) -> None:
    """Write bytes to path via a temporary file in the same folder (overwrites a regular
    file; never a special file, link or folder)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_file(path, data, force=True)
