"""Python's cycle collector around a render (render/weasy.collector_paused): off while a document
is laid out; the document's garbage collected when the process renders again; in a batch worker
(BASE_FROZEN) the frozen modules are never unfrozen and rescanned. Run in a child process: the
collector's state is the whole process's."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import gc, sys, weakref
from generator.render import weasy

class Node:
    pass

def garbage():
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the collector frees it
    return weakref.ref(a)

worker = sys.argv[1] == "worker"
base = [Node() for _ in range(1000)]
if worker:
    gc.freeze()  # as commands/batch.py does before forking its workers
    weasy.BASE_FROZEN = True
frozen = gc.get_freeze_count()
with weasy.collector_paused():
    assert not gc.isenabled()
    first = garbage()
assert first() is not None  # not collected yet: left for the next render
if worker:
    assert gc.get_freeze_count() == frozen and not gc.isenabled()  # the document is not frozen
else:
    assert gc.get_freeze_count() > frozen and gc.isenabled()  # frozen: out of the collector's sight
with weasy.collector_paused():
    assert first() is None  # the previous document's garbage is gone
    second = garbage()
if worker:
    assert gc.get_freeze_count() == frozen  # the base stayed frozen throughout
print("ok")
"""


def _child(mode: str) -> str:
    proc = subprocess.run([sys.executable, "-c", CHILD, mode], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_a_one_shot_or_watching_process_freezes_then_collects_the_previous_document():
    assert _child("process") == "ok"


def test_a_batch_worker_keeps_its_frozen_modules_and_collects_only_the_document():
    assert _child("worker") == "ok"
