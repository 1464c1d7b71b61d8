#!/usr/bin/env python3
"""edit_header.py SRC_DIR DST_DIR TENSOR (--rename NEW | --shape A,B | --poke-i32 INDEX VALUE)

Copies a single-file model directory and changes one tensor of its
model.safetensors: its name (the tensor then is missing under its own), its
shape (same element count, so the file stays well formed), or one int32
element. Feeds the runtime checkpoints that are wrong in one named way."""
import json
import shutil
import struct
import sys

src, dst, tensor, op = sys.argv[1:5]
shutil.rmtree(dst, ignore_errors=True)
shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.so", "*.bin", "*.a", "*.h"))
path = dst + "/model.safetensors"
data = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
entry = header[tensor]
if op == "--rename":
    header[sys.argv[5]] = header.pop(tensor)
elif op == "--shape":
    entry["shape"] = [int(v) for v in sys.argv[5].split(",")]
elif op == "--poke-i32":
    at = 8 + n + entry["data_offsets"][0] + 4 * int(sys.argv[5])
    data[at:at + 4] = struct.pack("<i", int(sys.argv[6]))
else:
    sys.exit("unknown operation " + op)
text = json.dumps(header, separators=(",", ":")).encode()
if len(text) > n:
    sys.exit("the edited header no longer fits")
data[8:8 + n] = text + b" " * (n - len(text))
open(path, "wb").write(data)
