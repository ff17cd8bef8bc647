"""The drht Jupyter kernel, driven as JupyterLab and Notebook drive it (jupyter_client), and every
lesson executed through it as a notebook (nbclient). Needs the release drht (`make build`)."""

import base64
import os
import struct
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))

import install_kernel  # noqa: E402
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import start_new_kernel  # noqa: E402

DRHT = os.path.join(ROOT, ".build", "release", "drht")
TIMEOUT = 120


def png_size(data):
    """(width, height) of a PNG, checking its signature and first chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


class KernelTestCase(unittest.TestCase):
    """The kernelspec installed under a temporary prefix (not the user's), one kernel per class."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        install_kernel.install(prefix=cls.tmp.name, drht=DRHT)
        cls.env = mock.patch.dict(os.environ, {"JUPYTER_PATH": os.path.join(cls.tmp.name, "share", "jupyter")})
        cls.env.start()
        cls.km, cls.kc = start_new_kernel(kernel_name="drht", startup_timeout=60, cwd=cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)
        cls.env.stop()
        cls.tmp.cleanup()

    def run_cell(self, code, interrupt_after_progress=None):
        """Executes `code`; returns (reply content, [(msg_type, content)] of its iopub messages).
        With `interrupt_after_progress` = N, presses the stop button at the N-th progress update."""
        msg_id = self.kc.execute(code)
        messages, updates = [], 0
        while True:
            m = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
            messages.append((m["msg_type"], m["content"]))
            if m["msg_type"] == "update_display_data":
                updates += 1
                if updates == interrupt_after_progress:
                    self.km.interrupt_kernel()
        reply = self.shell_reply(msg_id)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        return reply["content"], messages

    def shell_reply(self, msg_id):
        """The shell reply to request `msg_id`, as a frontend matches it: replies to other
        requests are passed over (on a loaded machine jupyter_client's start-up sends
        kernel_info again when the first reply takes over a second, and the second reply
        arrives after the start-up has finished waiting)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self.kc.get_shell_msg(timeout=max(1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    @staticmethod
    def text(messages):
        return "".join(c["text"] for t, c in messages if t == "stream")

    @staticmethod
    def pictures(messages):
        return [c for t, c in messages if t == "display_data" and "image/png" in c["data"]]


class KernelTests(KernelTestCase):
    def test_the_kernelspec_is_registered(self):
        spec = KernelSpecManager().get_kernel_spec("drht")
        self.assertEqual(spec.display_name, "drht (DRHT network)")
        self.assertEqual(spec.language, "drht")
        self.assertEqual(spec.env["DRHT_BIN"], DRHT)

    def test_text_comes_as_a_stream_and_pictures_as_png(self):
        reply, messages = self.run_cell("synth --size 64 --seed 3 as scene\n# narration is printed\nshow scene")
        self.assertEqual(reply["status"], "ok")
        text = self.text(messages)
        self.assertIn("scene: LDR photo 64x64", text)
        self.assertIn("narration is printed", text)
        self.assertNotIn("\x1b[", text, "no terminal escape codes in a notebook")
        pictures = self.pictures(messages)
        self.assertEqual(len(pictures), 1, [t for t, _ in messages])
        self.assertEqual(png_size(base64.b64decode(pictures[0]["data"]["image/png"])), (64, 64))
        self.assertEqual(pictures[0]["data"]["text/plain"], "scene")

    def test_feature_maps_and_before_after_are_pictures(self):
        self.run_cell("synth --size 64 --seed 4 as photo")
        reply, messages = self.run_cell("infer photo as fixed")
        self.assertEqual(reply["status"], "ok", reply)
        sizes = [png_size(base64.b64decode(p["data"]["image/png"])) for p in self.pictures(messages)]
        self.assertTrue(any(128 < w <= 140 and h == 64 for w, h in sizes), "the before/after pair, side by side: %s" % sizes)
        reply, messages = self.run_cell("use photo\nstep to hdr.enc1\nmaps hdr.enc1 --top 8")
        self.assertEqual(reply["status"], "ok", reply)
        self.assertTrue(any("feature maps" in p["data"]["text/plain"] for p in self.pictures(messages)))

    def test_an_error_cell_then_a_working_cell(self):
        reply, messages = self.run_cell("synth --size 64 as a\nfrobnicate\nsynth --size 64 as never")
        self.assertEqual(reply["status"], "error")
        self.assertEqual(reply["evalue"], 'unknown command "frobnicate" (`help` lists commands)')
        self.assertNotIn("\n", reply["evalue"])
        self.assertIn("error", [t for t, _ in messages])
        reply, messages = self.run_cell("vars")
        self.assertEqual(reply["status"], "ok")
        self.assertIn("a ", self.text(messages))
        self.assertNotIn("never", self.text(messages), "a cell stops at its first failing command")

    def test_completion_comes_from_the_repl(self):
        self.run_cell("synth --size 32 as sunset")
        for code, expected, start in [("show sun", "sunset", 5), ("sali", "saliency", 0), ("maps hdr.en", "hdr.enc3", 5),
                                      ("set mode ", "gain", 9), ("load Less", "Lessons/", 5)]:
            if code.startswith("load"):
                self.run_cell("# completion of paths is relative to the notebook's folder")
                code = "load " + os.path.join(ROOT, "Less")
                expected = os.path.join(ROOT, "Lessons") + "/"
            content = self.shell_reply(self.kc.complete(code, len(code)))["content"]
            self.assertEqual(content["status"], "ok")
            self.assertIn(expected, content["matches"], code)
            self.assertEqual(content["cursor_end"], len(code))
            if start:
                self.assertEqual(content["cursor_start"], start, code)

    def test_inspect_shows_the_commands_help(self):
        content = self.shell_reply(self.kc.inspect("maps hdr.enc1", 2))["content"]
        self.assertTrue(content["found"])
        self.assertIn("maps LAYER", content["data"]["text/plain"])
        self.assertFalse(self.shell_reply(self.kc.inspect("nonsense", 3))["content"]["found"])

    def test_is_complete(self):
        for code, status in [("show scene", "complete"), ('load "a b', "invalid"), ("# only narration", "complete")]:
            self.assertEqual(self.shell_reply(self.kc.is_complete(code))["content"]["status"], status, code)

    def test_pause_does_nothing(self):
        reply, messages = self.run_cell("pause")
        self.assertEqual(reply["status"], "ok")

    def test_the_stop_button_stops_training_and_keeps_the_session(self):
        self.run_cell("synth --size 32 as kept")
        start = time.monotonic()
        reply, messages = self.run_cell("train --steps 5000 --size 32 --batch 2\nsynth --size 32 as not_reached",
                                        interrupt_after_progress=3)
        self.assertLess(time.monotonic() - start, 100, "stopped long before 5000 steps")
        # The cell ends as an error (so Run All stops there too); the command said what it kept.
        self.assertEqual(reply["status"], "error", reply)
        self.assertIn("interrupted (Ctrl-C)", reply["evalue"])
        text = self.text(messages)
        self.assertIn("(Ctrl-C); the model keeps what it learned", text)
        self.assertNotIn("not_reached", text)
        # Progress: one line shown, then updated in place.
        shown = [c for t, c in messages if t == "display_data" and "transient" in c]
        updates = [c for t, c in messages if t == "update_display_data"]
        self.assertEqual(len(shown), 1)
        self.assertGreater(len(updates), 2)
        self.assertTrue(all(u["transient"]["display_id"] == shown[0]["transient"]["display_id"] for u in updates))
        self.assertIn("/5000", shown[0]["data"]["text/plain"])
        # The loss chart as a picture.
        self.assertTrue(any(p["data"]["text/plain"].startswith("training loss per step") for p in self.pictures(messages)))
        reply, messages = self.run_cell("vars")
        self.assertIn("kept", self.text(messages), "the session goes on")
        self.assertNotIn("not_reached", self.text(messages))

    def test_quit_does_not_end_the_session(self):
        self.run_cell("synth --size 32 as still_here")
        reply, _ = self.run_cell("quit")
        self.assertEqual(reply["status"], "error")
        self.assertIn("Kernel > Restart", reply["evalue"])
        reply, messages = self.run_cell("vars")
        self.assertIn("still_here", self.text(messages))

    def test_restart_gives_a_fresh_session(self):
        self.run_cell("synth --size 32 as before_restart")
        self.km.restart_kernel(now=True)
        self.kc.wait_for_ready(timeout=60)
        reply, messages = self.run_cell("show before_restart")
        self.assertEqual(reply["status"], "error")
        self.assertIn("no variable named before_restart", reply["evalue"])


class LessonNotebookTests(unittest.TestCase):
    """Every lesson, written as a notebook (`drht lesson N --notebook F --cells-only`), runs cell
    by cell through the kernel with nbclient; a failing `expect` fails its cell."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        install_kernel.install(prefix=self.tmp.name, drht=DRHT)
        patcher = mock.patch.dict(os.environ, {"JUPYTER_PATH": os.path.join(self.tmp.name, "share", "jupyter")})
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_every_lesson_runs_through_the_kernel(self):
        import nbclient
        import nbformat
        lessons = sorted(f for f in os.listdir(os.path.join(ROOT, "Lessons")) if f.endswith(".drht"))
        self.assertGreaterEqual(len(lessons), 12)
        for lesson in lessons:
            with self.subTest(lesson=lesson):
                path = os.path.join(self.tmp.name, lesson.replace(".drht", ".ipynb"))
                subprocess.run([DRHT, "lesson", os.path.join(ROOT, "Lessons", lesson), "--notebook", path, "--cells-only"],
                               check=True, capture_output=True, cwd=self.tmp.name)
                nb = nbformat.read(path, as_version=4)
                nbformat.validate(nb)
                self.assertEqual(nb.metadata.kernelspec.name, "drht")
                client = nbclient.NotebookClient(nb, timeout=900, kernel_name="drht", resources={"metadata": {"path": self.tmp.name}})
                client.execute()
                code = [c for c in nb.cells if c.cell_type == "code"]
                self.assertTrue(code and all(c.execution_count for c in code))
                errors = [o for c in code for o in c.outputs if o.output_type == "error"]
                self.assertEqual(errors, [])

    def test_a_failing_expect_fails_its_cell(self):
        import nbclient
        import nbformat
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "drht", "display_name": "drht (DRHT network)", "language": "drht"}})
        nb.cells = [nbformat.v4.new_code_cell("synth --size 32 as s"), nbformat.v4.new_code_cell("expect mean(s) > 2")]
        with self.assertRaises(nbclient.exceptions.CellExecutionError) as caught:
            nbclient.NotebookClient(nb, timeout=120, kernel_name="drht").execute()
        self.assertIn("expect", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
