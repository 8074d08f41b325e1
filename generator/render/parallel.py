"""One document laid out on two cores (issue 17): the sequential render's bytes, sooner.

The body is cut at its forced page breaks (parts.py) into three parts: the cover and 目录 (A),
a run of blocks a forked child lays out (B) and the rest, which this process lays out (C); the
cut between B and C balances their markup. Each part is laid out from its real start page
(its number and side, public CSS), painted where it was laid out into recordings (plain data:
content-stream operators, page data, which glyphs each font drew), and one PDF is written here
from the recordings of A, B and C in page order, with one font subset per face
(compat.record_pages / merged_fonts / write_joined). The 目录 is laid out last, with the page
numbers the other parts' anchors landed on.

A part's start depends on the lengths of the parts before it, which are not known while they are
laid out at the same time; they are guessed (`hint`: the lengths of the last render of the
same file, else one page per block) and checked: when B's length was guessed wrong the child,
which knows it first, lays C out from its real start (this process's C is dropped); a wrong
guess for A's length — or anything a recording cannot carry, two parts measuring a glyph apart,
a child that fails or dies — returns None, and the caller renders sequentially, which is always
the reference. The output is byte-identical to the
sequential render's (tests/test_parallel.py).

Used for a single document when two cores are free for this process, it runs no other thread, and
WeasyPrint's internals are the tested ones (compat.INTERNALS); never in a batch worker (a batch
already keeps every core busy with one document per process), never for PDF/A or PDF/UA
variants (tagged content). BUDGETGEN_PARALLEL=0 switches it off.
"""
from __future__ import annotations

import gc
import logging
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import compat, parts, weasy
from .html import TEMPLATES
from .parts import Block

MIN_CPUS = 2
CHILD_SHARE = 0.5  # of the markup after the 目录: the child's part B, this process's C
DISABLE = "BUDGETGEN_PARALLEL"  # "0": always sequential


@dataclass(frozen=True)
class Split:
    """The three parts of one document and the shared head and tail of their markup."""
    head: str
    tail: str
    a: list[Block]
    b: list[Block]
    c: list[Block]

    def markup(self, blocks: list[Block]) -> str:
        return parts.part_markup(self.head, self.tail, blocks)


@dataclass
class Joined:
    """A PDF joined from parts: its bytes, page count and the part lengths (the next hint)."""
    data: bytes
    pages: int
    lengths: tuple[int, int]
    meanwhile: Any = None


def usable() -> bool:
    """True when a single render may lay out on two cores here."""
    if os.environ.get(DISABLE, "") == "0" or not compat.INTERNALS:
        return False
    if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
        return False
    if threading.active_count() > 1:  # nothing is forked while another thread runs (a
        return False                  # progress bar's refresh thread, a test runner's)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return cpus - others_running() >= MIN_CPUS  # two cores free: else the halves only queue


def others_running() -> int:
    """Processes running right now besides this one (the kernel's count of runnable tasks,
    /proc/loadavg); 0 when it cannot be read. A busy machine lays out sequentially: two
    processes would share the cores others already use, at 1.2× the CPU."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            running = int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 0
    return max(0, running - 1)


def split(markup: str) -> Split | None:
    """The document cut into A (up to the 目录), B and C, or None when it cannot be cut so."""
    cut = parts.blocks(markup)
    if cut is None:
        return None
    head, tail, blocks = cut
    toc = next((i for i, b in enumerate(blocks) if "toc" in b.cls.split()), None)
    if toc is None or len(blocks) - toc - 1 < 2:
        return None
    rest = blocks[toc + 1:]
    total = sum(len(b.markup) for b in rest)
    size, cut_at = 0, 1
    for i, block in enumerate(rest[:-1], 1):
        size += len(block.markup)
        cut_at = i
        if size >= total * CHILD_SHARE:
            break
    return Split(head, tail, blocks[:toc + 1], rest[:cut_at], rest[cut_at:])


def _lay_out(markup: str, sheets: list[Any], extra_css: str, fonts: Any = None) -> Any:
    """A laid-out document (the caller pauses the collector around all layouts); `fonts`: a
    FontConfiguration the process's layouts share (fonts found and loaded once)."""
    document, ua = compat.make_html(markup, str(TEMPLATES) + "/", weasy.LocalFetcher(),
                                    weasy._ua_sheet())
    return document.render(stylesheets=ua + sheets + [weasy.CSS(string=extra_css)],
                           font_config=fonts)


# --------------------------------------------------------------------------- the child

def _die_with_parent() -> None:
    """The kernel kills this child when its parent ends (Linux); Ctrl-C is the parent's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover
        pass


def _child(out: int, split_: Split, sheets: list[Any], start: int, guess_c: int,
           meanwhile: Callable[[], Any] | None, fonts: Any) -> None:
    """Lays out part B from `start`; sends its length, its anchors' pages and whether C's start
    was guessed wrong — then it lays out C too, from its real start, and sends C's length and
    anchors; sends the recordings of what it laid out and what WeasyPrint logged meanwhile,
    `meanwhile()`, and its fonts subset (for the parent); never returns."""
    try:
        _die_with_parent()
        gc.disable()  # as in the parent's layouts (pdf.collector_paused); this process ends
        from .pdflog import LOGGERS, Collect  # with os._exit, never collecting
        handler = Collect()
        for name in LOGGERS:
            logging.getLogger(name).addHandler(handler)
        with os.fdopen(out, "wb") as pipe:
            try:
                documents = [_lay_out(split_.markup(split_.b), sheets, parts.start_css(start),
                                      fonts)]
                start_c = start + len(documents[0].pages)
                pickle.dump(("laid", len(documents[0].pages),
                             parts.anchor_pages(documents[0].pages, start),
                             start_c != guess_c), pipe)
                pipe.flush()
                if start_c != guess_c:  # the parent lays C out from the wrong page: C here
                    documents.append(_lay_out(split_.markup(split_.c), sheets,
                                              parts.start_css(start_c), fonts))
                    pickle.dump(("laid c", len(documents[1].pages),
                                 parts.anchor_pages(documents[1].pages, start_c)), pipe)
                    pipe.flush()
                recorded = [compat.record_pages(document) for document in documents]
                pickle.dump(("painted", [(pages, uses) for pages, uses, _ in recorded],
                             [(r.name, r.levelno, r.getMessage()) for r in handler.records]),
                            pipe)
                pipe.flush()
                if meanwhile is not None:  # the other formats, while the parent joins
                    try:
                        pickle.dump(("meanwhile", meanwhile()), pipe)
                    except Exception as exc:  # noqa: BLE001  — the parent runs it again
                        pickle.dump(("failed", repr(exc)), pipe)
                    pipe.flush()
                # fonts no part of the parent's may use, subset here (the parent reads them
                # only when its own parts do not use them all; it ends this process when done)
                pickle.dump(("subset", {key: compat.subset_snapshot(font)
                                        for _, _, fonts_used in recorded
                                        for key, font in fonts_used.items()}), pipe)
            except compat.CannotJoin as exc:
                pickle.dump(("cannot", str(exc)), pipe)
            except BaseException as exc:  # noqa: BLE001  — the parent renders sequentially
                pickle.dump(("failed", repr(exc)), pipe)
    finally:
        os._exit(0)


def _receive(pipe: Any, kind: str) -> tuple:
    """The child's next message of the given kind; CannotJoin for anything else (a failure,
    a child that died: end of file)."""
    try:
        message = pickle.load(pipe)
    except (EOFError, pickle.UnpicklingError, OSError) as exc:
        raise compat.CannotJoin(f"the child ended: {exc!r}") from exc
    if message[0] != kind:
        raise compat.CannotJoin(f"the child: {message[1:]}")
    return message[1:]


def _received(pipe: Any, kind: str) -> Any:
    """The child's next message's one value, or None when it sent something else."""
    try:
        return _receive(pipe, kind)[0]
    except compat.CannotJoin:
        return None


# --------------------------------------------------------------------------- the parent

def render(markup: str, sheets: list[Any], hint: tuple[int, int] | None = None,
           finisher: Any = None, meanwhile: Callable[[], Any] | None = None,
           fonts: Any = None) -> Joined | None:
    """The document's PDF laid out on two cores, or None (render sequentially instead).
    `meanwhile` (the document's other formats) is run by the child when it is done with its
    part, while this process joins the PDF; its result is Joined.meanwhile (None when the
    child could not: the caller runs it). `fonts`: the FontConfiguration to lay out with
    (pdf.font_configuration)."""
    parts_ = split(markup)
    if parts_ is None:
        return None
    length_a, length_b = hint or (len(parts_.a), len(parts_.b))
    start_b = length_a + 1
    fonts = fonts or compat.FontConfiguration()
    guess_c = start_b + length_b
    try:  # no pipe or no child (EAGAIN under RLIMIT_NPROC, ENOMEM, EMFILE): one core does it all
        reader, writer = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:  # pragma: no cover — the child (its work is checked through the parent)
        os.close(reader)
        _child(writer, parts_, sheets, start_b, guess_c, meanwhile, fonts)
    os.close(writer)
    try:
        with os.fdopen(reader, "rb") as pipe, weasy.collector_paused():
            doc_c = _lay_out(parts_.markup(parts_.c), sheets, parts.start_css(guess_c), fonts)
            pages_c, uses_c, fonts_c = compat.record_pages(doc_c)
            _, anchors_b, c_by_child = _receive(pipe, "laid")
            if c_by_child:  # B's length guessed wrong: the child lays C out from its start
                _, anchors_c = _receive(pipe, "laid c")
            else:
                anchors_c = parts.anchor_pages(doc_c.pages, guess_c)
            doc_a = _lay_out(parts_.markup(parts_.a), sheets,
                             parts.toc_css({**anchors_b, **anchors_c}), fonts)
            if len(doc_a.pages) != length_a:
                return None
            pages_a, uses_a, fonts_a = compat.record_pages(doc_a)
            recorded, logged = _receive(pipe, "painted")
            for name, level, message in logged:
                logging.getLogger(name).log(level, "%s", message)
            (pages_b, uses_b), *mine = recorded
            if mine:
                (pages_c, uses_c), = mine
            objects = {**fonts_c, **fonts_a}  # the parent's own C: its fonts still serve
            other: list = []
            if any(use.key not in objects for use in uses_b + uses_c):  # fonts only the
                if meanwhile is not None:                                # child used
                    other = [_received(pipe, "meanwhile")]
                subset, = _receive(pipe, "subset")
                objects = {**{k: compat.SubsetFont(v) for k, v in subset.items()}, **objects}
            merged = compat.merged_fonts([uses_a, uses_b, uses_c], objects)
            data = compat.write_joined(doc_a, pages_a + pages_b + pages_c, merged, finisher)
            joined = Joined(data, len(pages_a) + len(pages_b) + len(pages_c),
                            (len(pages_a), len(pages_b)))
            if meanwhile is not None:
                joined.meanwhile = other[0] if other else _received(pipe, "meanwhile")
            return joined
    except compat.CannotJoin:
        return None
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
