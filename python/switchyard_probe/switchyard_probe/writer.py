"""A run folder in the Switchyard run format (docs/run-format.md): config.json and status.json are
written whole or not at all (temporary file, then rename); metrics.jsonl gets one line per record,
appended and flushed, so a reader sees whole records and at most one torn last line."""
import json
import os
import re
import time
from datetime import datetime, timezone

RUN_FORMAT_VERSION = 1


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_atomic(path, value):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


class RunWriter:
    def __init__(self, folder, layers, source=None, producer_version="", extra=None):
        self.folder = os.path.abspath(folder)
        # status.json ids are letters, digits, _ . - (the engine's run ids).
        self.id = re.sub(r"[^\w.-]", "_", os.path.basename(self.folder.rstrip(os.sep)))[:200]
        os.makedirs(self.folder, exist_ok=True)
        # metrics.jsonl first, then status.json, then config.json: a folder is a run once it has
        # config.json, and by then the other two exist.
        self._metrics = open(os.path.join(self.folder, "metrics.jsonl"), "a", encoding="utf-8")
        self.status("running", 0, 0, "")
        config = {
            "format": "switchyard-run",
            "version": RUN_FORMAT_VERSION,
            "external": {"producer": "pytorch-probe", "producerVersion": producer_version, "createdAt": now_iso()},
            "layers": layers,
        }
        if source:
            config["external"]["source"] = source
        if extra:
            config["extra"] = extra
        write_atomic(os.path.join(self.folder, "config.json"), config)

    def append(self, record):
        # One write of a whole line, then flush: a crash leaves at most a torn last line.
        self._metrics.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        self._metrics.flush()

    def status(self, state, step, steps, backend, message=None):
        value = {"id": self.id, "state": state, "step": step, "steps": max(steps, step), "backend": backend, "updatedAt": now_iso()}
        if message:
            value["message"] = message
        write_atomic(os.path.join(self.folder, "status.json"), value)

    def close(self):
        if not self._metrics.closed:
            self._metrics.close()


def time_ms():
    return time.time() * 1000.0
