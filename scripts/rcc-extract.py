#!/usr/bin/env python3
"""Extract the files of a Qt binary resource (.rcc) into a folder. Standard library only.

The format (Qt's rcc, versions 1-3), big-endian throughout:
  header   "qres", version, tree offset, data offset, names offset[, flags if version >= 3]
  tree     one node per entry, 14 bytes (version 1) or 22 bytes (2+, adds a modification time):
           name offset (4), flags (2), then for a folder: child count (4), first child index (4);
           for a file: country (2), language (2), data offset (4). Node 0 is the root folder.
  names    at names offset + name offset: length (2), hash (4), UTF-16 characters
  data     at data offset + data offset: size (4), bytes. Flag 1: zlib with a 4-byte length
           first (qCompress); flag 4: zstd (not needed by the packages we read; refused).

Usage: rcc-extract.py FILE.rcc OUTDIR [SUFFIX ...]   (only names ending in a SUFFIX, if given)
"""
import os
import struct
import sys
import zlib

COMPRESSED, DIRECTORY, ZSTD = 1, 2, 4


def extract(path, outdir, suffixes=()):
    blob = open(path, "rb").read()
    if blob[:4] != b"qres":
        raise ValueError(f"{path}: not a Qt resource file (no 'qres' magic)")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    if version not in (1, 2, 3):
        raise ValueError(f"{path}: rcc version {version} not supported")
    node_size = 14 if version == 1 else 22
    written = []

    def name_at(offset):
        (length,) = struct.unpack(">H", blob[names + offset:names + offset + 2])
        start = names + offset + 6
        return blob[start:start + 2 * length].decode("utf-16-be")

    visited = set()

    def walk(index, prefix, depth):
        if depth > 64:
            raise ValueError(f"{path}: resource tree deeper than 64")
        if index in visited:
            raise ValueError(f"{path}: node {index} is reached twice (a corrupt tree)")
        visited.add(index)
        at = tree + index * node_size
        if at + node_size > len(blob):
            raise ValueError(f"{path}: node {index} lies past the end of the file")
        name_offset, flags = struct.unpack(">IH", blob[at:at + 6])
        name = name_at(name_offset) if index else ""
        if index and (not name or "/" in name or name in ("..", ".")):
            raise ValueError(f"{path}: unsafe name {name!r}")
        here = os.path.join(prefix, name) if name else prefix
        if flags & DIRECTORY:
            count, first = struct.unpack(">II", blob[at + 6:at + 14])
            for child in range(first, first + count):
                walk(child, here, depth + 1)
            return
        if suffixes and not here.lower().endswith(tuple(suffixes)):
            return
        (offset,) = struct.unpack(">I", blob[at + 10:at + 14])
        (size,) = struct.unpack(">I", blob[data + offset:data + offset + 4])
        if data + offset + 4 + size > len(blob):
            raise ValueError(f"{path}: {here} runs past the end of the file (truncated?)")
        payload = blob[data + offset + 4:data + offset + 4 + size]
        if flags & ZSTD:
            raise ValueError(f"{path}: {here} is zstd-compressed; not supported")
        if flags & COMPRESSED:
            payload = zlib.decompress(payload[4:])
        target = os.path.join(outdir, here)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target + ".part", "wb") as f:
            f.write(payload)
        os.replace(target + ".part", target)
        written.append(here)

    walk(0, "", 0)
    return written


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    try:
        files = extract(sys.argv[1], sys.argv[2], tuple(s.lower() for s in sys.argv[3:]))
    except (ValueError, struct.error, zlib.error, OSError) as e:
        sys.exit(f"rcc-extract: {e}")
    print(f"{sys.argv[1]}: {len(files)} files")
