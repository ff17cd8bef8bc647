"""drht's Jupyter kernel.

A wrapper kernel (ipykernel's ``Kernel`` subclass, the pattern of bash_kernel): ipykernel
speaks the Jupyter messaging protocol (ZeroMQ, signatures, heartbeat, shutdown), and this
class drives one long-lived ``drht kernel`` process through drht's machine protocol (one JSON
object per line each way; Sources/DRHTREPL/Kernel/KernelServer.swift documents it). The REPL's
own session code runs every command: nothing here knows what a command does.

What goes where:
  drht "stream"    -> iopub stream (stdout)
  drht "display"   -> iopub display_data (image/png, the caption as text/plain)
  drht "progress"  -> one display_data updated in place (update_display_data), emptied at the end
  drht "error"     -> iopub error and an execute_reply with status "error"
The notebook's stop button (SIGINT to this process) is passed on to drht, which stops the
running command at its next safe point and keeps the session; the cell then ends as an error, so
"Run All" stops there too.
"""

import ctypes
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

from ipykernel.kernelbase import Kernel

__version__ = "1"


def drht_executable():
    """$DRHT_BIN (the kernelspec sets it to the clone's release build), else drht on PATH."""
    exe = os.environ.get("DRHT_BIN") or shutil.which("drht")
    if not exe or not os.access(exe, os.X_OK):
        raise RuntimeError("drht not found: build it with `make build` and install the kernel with `make jupyter`")
    return exe


def _child_setup():
    """In drht's process before it starts: its own session (a Ctrl-C meant for the kernel's
    process group reaches drht only once, when the kernel passes it on), and killed with the
    kernel if the kernel dies without closing it (Linux's PR_SET_PDEATHSIG)."""
    os.setsid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)    # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


class DrhtError(RuntimeError):
    pass


class DrhtProcess:
    """One `drht kernel` process and its protocol: requests in, events out. Every request
    carries an id that its closing event brings back, so answers cannot be taken for another's."""

    closing = {"done", "completions", "inspection", "is_complete"}

    def __init__(self, exe=None, args=()):
        self.exe = exe or drht_executable()
        # drht's standard error goes to a file (never a pipe nobody reads, which could fill or
        # close under it); it is read only to say why drht could not start.
        self.errors = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen([self.exe, "kernel", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.errors, preexec_fn=_child_setup, text=True, encoding="utf-8",
                                     bufsize=1)
        self.ids = itertools.count(1)
        for event in iter(self.read_event, None):
            if event.get("event") == "ready":
                return
        self.proc.wait()
        self.errors.seek(0)
        message = self.errors.read().strip() or "it ended before it was ready"
        raise DrhtError("drht could not start (%s): %s" % (self.exe, message))

    def request(self, op, **fields):
        """Sends a request; returns its id, or None when drht has gone."""
        rid = next(self.ids)
        try:
            self.proc.stdin.write(json.dumps({"op": op, "id": rid, **fields}) + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            return None
        return rid

    def read_event(self):
        """The next event, or None when the process has ended."""
        while True:
            line = self.proc.stdout.readline()
            if not line:
                return None
            try:
                return json.loads(line)
            except ValueError:
                continue        # not a protocol line (never expected): skip it

    def answer(self, op, **fields):
        """Sends a request whose answer is its closing event, and returns it (None if drht ended)."""
        rid = self.request(op, **fields)
        if rid is None:
            return None
        with passing_interrupts_to(self):
            for event in iter(self.read_event, None):
                if event.get("event") in self.closing and event.get("id") == rid:
                    return event
        return None

    def interrupt(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


class passing_interrupts_to:
    """While drht works, SIGINT (the stop button) is passed on to it instead of raising
    KeyboardInterrupt here: reads are never cut short, so no event is lost or half read."""

    def __init__(self, drht):
        self.drht = drht

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, lambda signum, frame: self.drht.interrupt())

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)
        return False


class DrhtKernel(Kernel):
    implementation = "drht"
    implementation_version = __version__
    language = "drht"
    language_version = "1"
    language_info = {"name": "drht", "version": "1", "mimetype": "text/x-drht", "file_extension": ".drht",
                     "pygments_lexer": "text"}
    banner = "drht — see how the DRHT network corrects badly exposed photos. `help` lists commands, `lesson 1` starts the first lesson."

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.drht = None
        self.start_drht()

    def start_drht(self):
        threads = os.environ.get("DRHT_KERNEL_THREADS")
        self.drht = DrhtProcess(args=["--threads", threads] if threads else [])

    # -- execute ---------------------------------------------------------------------------

    def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False):
        if not code.strip():
            return self.ok()
        if not self.drht.alive():
            try:
                self.start_drht()
            except DrhtError as e:
                return self.fail(str(e), silent)
            self.stream("drht had stopped; started a new session (variables from before are gone)\n", silent)
        cell = {"silent": silent, "error": None, "progress_id": None, "progress_shown": 0.0, "progress_text": ""}
        rid = self.drht.request("execute", code=code)
        with passing_interrupts_to(self.drht):
            for event in iter(self.drht.read_event, None) if rid is not None else ():
                if event.get("event") in DrhtProcess.closing and event.get("id") != rid:
                    continue        # a late answer to an earlier request
                if self.forward(event, cell):
                    break
            else:
                self.drht.close()
                cell["error"] = ("drht stopped unexpectedly (exit status %s); the next cell starts a new session"
                                 % self.drht.proc.returncode)
        return self.ok() if cell["error"] is None else self.fail(cell["error"], silent)

    def fail(self, error, silent):
        """The error reply (and the error output) of a cell: one line."""
        content = {"ename": "drht", "evalue": error, "traceback": ["error: " + error]}
        if not silent:
            self.send_response(self.iopub_socket, "error", content)
        return {"status": "error", "execution_count": self.execution_count, **content}

    def forward(self, event, cell):
        """Passes one of drht's events on to the notebook; True at the cell's closing event."""
        kind, silent = event.get("event"), cell["silent"]
        if kind == "stream":
            self.stream(event.get("text", ""), silent)
        elif kind == "display" and not silent:
            self.send_response(self.iopub_socket, "display_data", {
                "data": {"image/png": event["png"], "text/plain": event.get("caption", "")},
                "metadata": {"image/png": {"width": event.get("width"), "height": event.get("height")}},
            })
        elif kind == "progress" and not silent:
            # One line updated in place, at most 5 times a second; emptied when the work ends.
            text, now = event.get("text") or "", time.monotonic()
            transient = {"display_id": cell["progress_id"]}
            if cell["progress_id"] is None:
                if not text:
                    return False
                transient["display_id"] = cell["progress_id"] = uuid.uuid4().hex
                self.send_response(self.iopub_socket, "display_data",
                                   {"data": {"text/plain": text}, "metadata": {}, "transient": transient})
            elif text != cell["progress_text"] and (not text or now - cell["progress_shown"] >= 0.2):
                self.send_response(self.iopub_socket, "update_display_data",
                                   {"data": {"text/plain": text}, "metadata": {}, "transient": transient})
            else:
                return False
            cell["progress_shown"], cell["progress_text"] = now, text
        elif kind == "error":
            cell["error"] = event.get("message", "error")
        elif kind == "done":
            if event.get("status") == "error" and cell["error"] is None:
                cell["error"] = event.get("message", "error")
            return True
        return False

    def stream(self, text, silent):
        if text and not silent:
            self.send_response(self.iopub_socket, "stream", {"name": "stdout", "text": text})

    def ok(self):
        return {"status": "ok", "execution_count": self.execution_count, "payload": [], "user_expressions": {}}

    # -- completion, help, completeness ----------------------------------------------------

    def do_complete(self, code, cursor_pos):
        answer = self.drht.answer("complete", code=code, cursor=cursor_pos) if self.drht.alive() else None
        if answer is None:
            return {"status": "ok", "matches": [], "cursor_start": cursor_pos, "cursor_end": cursor_pos, "metadata": {}}
        return {"status": "ok", "matches": answer.get("matches", []), "cursor_start": answer.get("start", cursor_pos),
                "cursor_end": answer.get("end", cursor_pos), "metadata": {}}

    def do_inspect(self, code, cursor_pos, detail_level=0, omit_sections=()):
        answer = self.drht.answer("inspect", code=code, cursor=cursor_pos) if self.drht.alive() else None
        if not answer or not answer.get("found"):
            return {"status": "ok", "found": False, "data": {}, "metadata": {}}
        return {"status": "ok", "found": True, "data": {"text/plain": answer.get("text", "")}, "metadata": {}}

    def do_is_complete(self, code):
        answer = self.drht.answer("is_complete", code=code) if self.drht.alive() else None
        status = answer.get("status", "complete") if answer else "unknown"
        return {"status": status} if status != "incomplete" else {"status": status, "indent": ""}

    # -- life cycle --------------------------------------------------------------------------

    def do_shutdown(self, restart):
        if self.drht:
            self.drht.close()
        return {"status": "ok", "restart": restart}


if __name__ == "__main__":
    from ipykernel.kernelapp import IPKernelApp
    IPKernelApp.launch_instance(kernel_class=DrhtKernel)
