"""The Jupyter notebooks drht writes (`drht lesson N --notebook FILE.ipynb`, `notebook save`)
validate against nbformat's own v4 JSON schema, and every picture in them decodes as a PNG.
Lives with the Python tests because nbformat is Jupyter's own validator (the Swift tests check
the fields and images without Python)."""
import base64
import io
import os
import subprocess
import tempfile
import unittest

import nbformat
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DRHT = os.path.join(ROOT, ".build", "release", "drht")


class NotebookTest(unittest.TestCase):
    def check(self, path, lesson):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)                      # raises ValidationError on any schema violation
        self.assertEqual((nb.nbformat, nb.nbformat_minor), (4, 5))
        code = [c for c in nb.cells if c.cell_type == "code"]
        self.assertEqual([c.execution_count for c in code], list(range(1, len(code) + 1)))
        self.assertTrue(any(c.cell_type == "markdown" for c in nb.cells[1:]), lesson)
        images = 0
        for c in code:
            for o in c.outputs:
                if o.output_type == "display_data":
                    png = base64.b64decode(o.data["image/png"])
                    Image.open(io.BytesIO(png)).load()
                    images += 1
        self.assertGreater(images, 0, lesson)

    def test_lesson_notebooks_validate(self):
        """Lesson 11 has the most pictures: pictures go in at display size, so a lesson's
        notebook stays under 5 MB."""
        tmp = tempfile.mkdtemp(prefix="drht-nb-")
        for lesson in ["2", "10", "11"]:
            path = os.path.join(tmp, f"lesson{lesson}.ipynb")
            subprocess.run([DRHT, "lesson", lesson, "--notebook", path, "--threads", "2"], check=True,
                           stdout=subprocess.DEVNULL, cwd=tmp)
            self.check(path, lesson)
            self.assertLess(os.path.getsize(path), 5 << 20, lesson)

    def test_a_failed_command_keeps_its_error(self):
        """A command file that stops at a failing command: the notebook is still written, and
        the failed cell's output is an nbformat `error` output."""
        tmp = tempfile.mkdtemp(prefix="drht-nb-")
        script = os.path.join(tmp, "steps.drht")
        with open(script, "w") as f:
            f.write("# A lesson that goes wrong\nsynth --size 64 as s\nshow s\nshow nothing\n")
        path = os.path.join(tmp, "stopped.ipynb")
        run = subprocess.run([DRHT, "lesson", script, "--notebook", path, "--threads", "2"], cwd=tmp,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.assertEqual(run.returncode, 1)
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        self.assertEqual(len(errors), 1)
        self.assertIn("nothing", errors[0].evalue)


if __name__ == "__main__":
    unittest.main()
