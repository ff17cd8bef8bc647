"""scripts/rcc-extract.py (`make photos` reads gcompris-qt-data's photographs with it): a Qt
resource written here by hand, byte by byte from the format's description, comes back out."""
import importlib.util
import os
import struct
import tempfile
import unittest
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location("rcc_extract", os.path.join(ROOT, "scripts", "rcc-extract.py"))
R = importlib.util.module_from_spec(spec)
spec.loader.exec_module(R)


def name_entry(name):
    return struct.pack(">HI", len(name), 0) + name.encode("utf-16-be")


def rcc(version=3):
    """/ -> photos/ -> {a.webp (stored), b.txt (zlib)}; c.webp at the root."""
    names = b""
    offsets = {}
    for n in ["photos", "a.webp", "b.txt", "c.webp"]:
        offsets[n] = len(names)
        names += name_entry(n)
    a, b, c = b"RIFF-not-really-webp", b"hello " * 50, b"third"
    data = struct.pack(">I", len(a)) + a
    b_at = len(data)
    packed = struct.pack(">I", len(b)) + zlib.compress(b)
    data += struct.pack(">I", len(packed)) + packed
    c_at = len(data)
    data += struct.pack(">I", len(c)) + c
    extra = b"" if version == 1 else b"\0" * 8

    def folder(name_off, count, first):
        return struct.pack(">IHII", name_off, 2, count, first) + extra

    def file(name_off, flags, at):
        return struct.pack(">IHHHI", name_off, flags, 0, 0, at) + extra

    # Node order: 0 root, 1 photos, 2 c.webp (root's children 1-2), 3 a.webp, 4 b.txt.
    tree = (folder(0, 2, 1) + folder(offsets["photos"], 2, 3) + file(offsets["c.webp"], 0, c_at)
            + file(offsets["a.webp"], 0, 0) + file(offsets["b.txt"], 1, b_at))
    header_size = 20 if version < 3 else 24
    data_at = header_size
    names_at = data_at + len(data)
    tree_at = names_at + len(names)
    header = b"qres" + struct.pack(">IIII", version, tree_at, data_at, names_at)
    if version >= 3:
        header += struct.pack(">I", 0)
    return header + data + names + tree, (a, b, c)


class RccTests(unittest.TestCase):
    def test_files_come_back_byte_for_byte(self):
        for version in (1, 2, 3):
            blob, (a, b, c) = rcc(version)
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "x.rcc")
                open(path, "wb").write(blob)
                out = os.path.join(d, "out")
                written = R.extract(path, out)
                self.assertEqual(sorted(written), ["c.webp", "photos/a.webp", "photos/b.txt"])
                self.assertEqual(open(os.path.join(out, "photos", "a.webp"), "rb").read(), a)
                self.assertEqual(open(os.path.join(out, "photos", "b.txt"), "rb").read(), b)
                self.assertEqual(open(os.path.join(out, "c.webp"), "rb").read(), c)

    def test_suffix_filter(self):
        blob, _ = rcc()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.rcc")
            open(path, "wb").write(blob)
            self.assertEqual(sorted(R.extract(path, os.path.join(d, "o"), (".webp",))), ["c.webp", "photos/a.webp"])

    def test_truncated_and_looping_resources_are_errors(self):
        blob, _ = rcc()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.rcc")
            open(path, "wb").write(blob[:len(blob) - 1])     # the last tree node cut short
            with self.assertRaises(ValueError):
                R.extract(path, os.path.join(d, "o"))
            # The photos folder lists itself as its own child: a loop, not a hang.
            looping = bytearray(blob)
            (tree_at,) = struct.unpack(">I", blob[8:12])
            node1 = tree_at + 22
            looping[node1 + 10:node1 + 14] = struct.pack(">I", 1)
            open(path, "wb").write(bytes(looping))
            with self.assertRaisesRegex(ValueError, "reached twice"):
                R.extract(path, os.path.join(d, "o2"))

    def test_not_a_resource_is_one_clear_error(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.rcc")
            open(path, "wb").write(b"PK\3\4 a zip file")
            with self.assertRaisesRegex(ValueError, "not a Qt resource"):
                R.extract(path, os.path.join(d, "o"))


if __name__ == "__main__":
    unittest.main()
