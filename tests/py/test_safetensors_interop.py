"""lucid's safetensors reader and writer (train/safetensors.h) against the
reference implementation, `safetensors` with PyTorch.

- Files written by safetensors.torch.save_file (every dtype lucid has, 0-dim,
  empty, NaN payloads, non-ASCII and escaped names, metadata) are read by lucid
  and written back byte for byte the same: lucid's writer orders, escapes and
  pads as the reference's does.
- A file lucid writes loads with safetensors.torch.load_file (into an
  nn.Linear with load_state_dict too), with safe_open(...).metadata() equal.
- Malformed files, each breaking one rule, are refused by the reference AND by
  lucid, whose message names the file; files the reference accepts (an empty
  dict, other padding, any header order, members it ignores) lucid accepts.

Runs tests/tools/safetensors_tool.cpp ($LUCID_BUILD_DIR/tests/safetensors_tool).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import torch
import safetensors
from safetensors import safe_open
from safetensors.torch import load_file, save, save_file

TOOL = os.path.join(os.environ["LUCID_BUILD_DIR"], "tests", "safetensors_tool")


def run_tool(*args):
    # errors="backslashreplace": a message may quote a byte of the file that is not UTF-8.
    r = subprocess.run([TOOL, *args], capture_output=True, timeout=60)
    r.stdout = r.stdout.decode("utf-8", errors="backslashreplace")
    r.stderr = r.stderr.decode("utf-8", errors="backslashreplace")
    return r


def file_bytes(header, data=b"", pad=True):
    """8-byte length, the header (space-padded to a multiple of 8 unless pad=False), the data."""
    h = header if isinstance(header, bytes) else header.encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def entry(name, dtype, shape, begin, end):
    return json.dumps(name) + ":" + json.dumps({"dtype": dtype, "shape": shape, "data_offsets": [begin, end]})


def obj(*entries):
    return "{" + ",".join(entries) + "}"


def from_bits(bits, dtype, int_dtype):
    return torch.tensor(bits, dtype=torch.int64).to(int_dtype).view(dtype)


def raw_bytes(t):
    """A tensor's elements in C order, as bytes: compares NaN payloads and -0.0 exactly."""
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def same_tensors(test, got, expected):
    test.assertEqual(sorted(got), sorted(expected))
    for name, t in expected.items():
        with test.subTest(tensor=name):
            test.assertEqual(got[name].dtype, t.dtype)
            test.assertEqual(tuple(got[name].shape), tuple(t.shape))
            test.assertEqual(raw_bytes(got[name]), raw_bytes(t))


def reference_dicts():
    """State dicts as PyTorch users write them, covering lucid's dtypes and edge cases."""
    f32_bits = [0x7FC00001, 0x7F800001, -1, -(2**31), 0x7F800000, 1, 0x3F800000]  # NaN payloads, -0.0, inf
    f64_bits = [0x7FF0000000000001, -(2**63), 1, 0x400921FB54442D18, -0x7FFFFFFFFFFFFEDD]
    every_dtype = {
        "f32": from_bits(f32_bits, torch.float32, torch.int32),
        "f64": from_bits(f64_bits, torch.float64, torch.int64),
        "f16": from_bits([0x7C01, -0x1FF, -0x8000, 1, 0x3C00], torch.float16, torch.int16),
        "bf16": from_bits([0x7F81, -0x3F, -0x8000, 1, 0x3F80], torch.bfloat16, torch.int16),
        "i64": torch.tensor([-(2**63), 2**63 - 1, -1, 0]),
        "i32": torch.tensor([-(2**31), 2**31 - 1, 7], dtype=torch.int32),
        "u8": torch.arange(256, dtype=torch.uint8).reshape(16, 16),
        "bool": torch.tensor([True, False, True, True]),
    }
    shapes = {
        "scalar.f32": torch.tensor(3.5),
        "scalar.i64": torch.tensor(-9),
        "scalar.bool": torch.tensor(True),
        "empty": torch.zeros(0, 3),
        "empty.i32": torch.zeros(4, 0, dtype=torch.int32),
        "empty.1d": torch.zeros(0, dtype=torch.float16),
        "transposed": torch.arange(12.0).reshape(3, 4).t().contiguous(),
    }
    names = {
        "naïve.名前.weight": torch.ones(2),
        'quote"back\\slash': torch.ones(1),
        "control\n\t\x01\x1f\x7f": torch.zeros(1, dtype=torch.float64),
        "": torch.ones(1, dtype=torch.uint8),
        "layer.10.w": torch.ones(1),
        "layer.2.w": torch.ones(1),
    }
    return {"every_dtype": every_dtype, "shapes": shapes, "names": names, "one": {"w": torch.ones(3)}, "empty": {}}


def expected_written():
    """The dict tests/tools/safetensors_tool.cpp writes ('write' mode)."""
    return {
        "fc.weight": torch.tensor([[0.5, -1.0, 2.0], [0.25, 0.0, -0.0]]),
        "fc.bias": torch.tensor([1.0, -2.0]),
        "f64.t": torch.arange(6, dtype=torch.float64).reshape(2, 3).t(),
        "f16": torch.tensor([1.0, -2.0, 0.5, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -0.0, 3.140625], dtype=torch.bfloat16),
        "i64": torch.tensor(-5),
        "i32.slice": torch.arange(10, dtype=torch.int32)[::3],
        "u8": torch.tensor([[0, 255], [128, 7]], dtype=torch.uint8),
        "mask": torch.tensor([True, False, True]),
        "empty": torch.zeros(0, 4),
        "naïve.名前": torch.tensor([42.0]),
    }


def malformed_files():
    """(what it breaks, bytes, a phrase lucid's message holds): each is one rule broken."""
    a = entry("a", "F32", [1], 0, 4)
    z4 = b"\0" * 4
    return [
        ("file shorter than the length", b"\x08\0\0", "8-byte header length"),
        ("header length 0", struct.pack("<Q", 0), "the header is 0 bytes"),
        ("header length 1", struct.pack("<Q", 1) + b"{", "the header is 1 bytes"),
        ("header length over 100,000,000", struct.pack("<Q", 100_000_001) + b"{}", "more than the 100000000"),
        ("header length past the end", struct.pack("<Q", 64) + b"{}      ", "only 8 bytes follow"),
        ("invalid UTF-8", file_bytes(b'{"a\xff":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', z4),
         "not valid UTF-8"),
        ("overlong UTF-8", file_bytes(b'{"a\xc0\xaf":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', z4),
         "not valid UTF-8"),
        ("top-level array", file_bytes("[]"), "must be a JSON object"),
        ("trailing garbage", file_bytes(obj(a) + "x", z4), "after the end"),
        ("NUL padding", file_bytes(obj(a) + "\0\0\0", z4, pad=False), "header: byte"),
        ("byte-order mark", file_bytes("\ufeff" + obj(a), z4), "header: byte 0"),
        ("lone surrogate escape", file_bytes('{"\\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', z4),
         "surrogate"),
        ("duplicate __metadata__", file_bytes('{"__metadata__":{},"__metadata__":{}}'),
         'duplicate key "__metadata__"'),
        ("duplicate field", file_bytes('{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', z4),
         'duplicate key "dtype"'),
        ("duplicate name, second at 4", file_bytes(obj(a, entry("a", "F32", [1], 4, 8)), b"\0" * 8),
         'duplicate key "a"'),
        ("__metadata__ an array", file_bytes('{"__metadata__":[]}'), "must be an object of strings"),
        ("__metadata__ value an integer", file_bytes('{"__metadata__":{"k":1}}'), 'entry "k" must be a string'),
        ("__metadata__ value an object", file_bytes('{"__metadata__":{"k":{}}}'), 'entry "k" must be a string'),
        ("entry an integer", file_bytes('{"a":1}'), 'tensor "a": expected an object'),
        ("missing dtype", file_bytes('{"a":{"shape":[1],"data_offsets":[0,4]}}', z4), 'missing "dtype"'),
        ("missing shape", file_bytes('{"a":{"dtype":"F32","data_offsets":[0,4]}}', z4), 'missing "shape"'),
        ("missing data_offsets", file_bytes('{"a":{"dtype":"F32","shape":[1]}}', z4), 'missing "data_offsets"'),
        ("unknown dtype", file_bytes(obj(entry("a", "f32", [1], 0, 4)), z4), 'unknown dtype "f32"'),
        ("shape 1.0", file_bytes('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', z4),
         "must hold integers, not a number"),
        ("shape 1e0", file_bytes('{"a":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}', z4),
         "must hold integers, not a number"),
        ("shape -1", file_bytes('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', z4), "holds -1"),
        ("shape -0", file_bytes('{"a":{"dtype":"F32","shape":[-0],"data_offsets":[0,0]}}'), "holds -0"),
        ("shape a string", file_bytes('{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}', z4),
         "not a string"),
        ("shape null", file_bytes('{"a":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}', z4),
         '"shape" must be an array, not null'),
        ("offsets with 3 values", file_bytes('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}', z4),
         "must hold 2 integers"),
        ("offsets 2^64", file_bytes('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}}', z4),
         "64-bit range"),
        ("gap at the start", file_bytes(obj(entry("a", "F32", [1], 4, 8)), b"\0" * 8), "leave a gap"),
        ("gap between", file_bytes(obj(a, entry("b", "F32", [1], 5, 9)), b"\0" * 9), "leave a gap"),
        ("overlap", file_bytes(obj(a, entry("b", "F32", [1], 2, 6)), b"\0" * 6), "overlap"),
        ("end before begin", file_bytes(obj(a, entry("b", "F32", [0], 4, 0)), z4), "end before they begin"),
        ("bytes overflow", file_bytes(obj(entry("a", "F32", [2**62, 4], 0, 4)), z4), "more elements than 64 bits"),
        ("size overflow", file_bytes(obj(entry("a", "F64", [2**61], 0, 4)), z4), "needs more bytes than 64 bits"),
        ("size mismatch", file_bytes(obj(entry("a", "F32", [2], 0, 4)), z4), "needs 8"),
        ("scalar size mismatch", file_bytes(obj(entry("a", "I64", [], 0, 4)), z4), "needs 8"),
        ("trailing data byte", file_bytes(obj(a), b"\0" * 5), "holds 5 bytes of data"),
        ("missing data byte", file_bytes(obj(a), b"\0" * 3), "holds 3 bytes of data"),
        ("data but no tensors", file_bytes("{}", b"\0"), "holds 1 bytes of data"),
    ]


def accepted_files():
    """Files the reference accepts that are not what its writer makes: lucid must accept them too."""
    a = entry("a", "F32", [1], 0, 4)
    one = struct.pack("<f", 1.5)
    return [
        ("empty dict", file_bytes("{}")),
        ("empty dict, no padding", file_bytes("{}", pad=False)),
        ("no padding", file_bytes(obj(a), one, pad=False)),
        ("tab and newline padding", file_bytes(obj(a) + "\t\n\r\t", one, pad=False)),
        ("leading whitespace", file_bytes("\n  " + obj(a), one)),
        ("spaces between tokens", file_bytes('{ "a" : { "dtype" : "F32" , "shape" : [ 1 ] , '
                                             '"data_offsets" : [ 0 , 4 ] } }', one)),
        ("header order unlike data order",
         file_bytes(obj(entry("z", "U8", [2], 4, 6), entry("y", "I32", [], 0, 4)), b"\x07\0\0\0\x01\x02")),
        ("members the format does not define",
         file_bytes('{"a":{"x":null,"dtype":"F32","y":[1.5,true,{"z":-3}],"shape":[1],"data_offsets":[0,4]}}', one)),
        ("__metadata__ null", file_bytes('{"__metadata__":null,' + a + "}", one)),
        ("__metadata__ last", file_bytes("{" + a + ',"__metadata__":{"k":"v"}}', one)),
        ("escaped names", file_bytes('{"\\u00e9\\n\\/":' + a[4:] + "}", one)),
        ("empty tensors sharing an offset",
         file_bytes(obj(entry("e1", "F32", [0], 0, 0), entry("e2", "I64", [3, 0], 0, 0), a), one)),
        ("large empty shape", file_bytes(obj(entry("e", "F64", [0, 2**62], 0, 0)))),
    ]


def reference_accepts(path):
    try:
        with safe_open(path, "pt") as f:
            for k in f.keys():
                f.get_tensor(k)
        with open(path, "rb") as f:
            safetensors.deserialize(f.read())
        return True
    except Exception:  # the reference raises SafetensorError, or others for sub-byte dtypes
        return False


class Interop(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def test_reference_files_are_read_and_written_back_byte_for_byte(self):
        metadatas = [None, {"format": "pt"}, {"ünï": 'c"ode\n'}]
        for label, tensors in reference_dicts().items():
            for i, metadata in enumerate(metadatas):
                with self.subTest(dict=label, metadata=metadata):
                    src, out = self.path(f"{label}{i}.in"), self.path(f"{label}{i}.out")
                    save_file(tensors, src, metadata=metadata)
                    r = run_tool("roundtrip", src, out)
                    self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                    with open(src, "rb") as f, open(out, "rb") as g:
                        self.assertEqual(g.read(), f.read())
                    same_tensors(self, load_file(out), tensors)
                    with safe_open(out, "pt") as f:
                        self.assertEqual(f.metadata(), metadata)

    def test_many_metadata_keys_survive_in_any_order(self):
        # The reference writes metadata in hash order; lucid keeps the order it read.
        metadata = {f"key{i}": f"value {i} ü" for i in range(20)}
        tensors = reference_dicts()["every_dtype"]
        src, out = self.path("meta.in"), self.path("meta.out")
        save_file(tensors, src, metadata=metadata)
        r = run_tool("roundtrip", src, out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with safe_open(out, "pt") as f:
            self.assertEqual(f.metadata(), metadata)
        same_tensors(self, load_file(out), tensors)

    def test_lucid_file_loads_in_pytorch(self):
        out = self.path("lucid.safetensors")
        r = run_tool("write", out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        expected = expected_written()
        got = load_file(out)
        same_tensors(self, got, expected)
        with safe_open(out, "pt") as f:
            self.assertEqual(f.metadata(), {"format": "pt", "lucid": "1", "note": 'ünïcode "quoted"\n'})
        # The same dict saved by the reference gives the same tensor bytes in the
        # same places (the metadata is written in another order).
        with open(out, "rb") as f:
            lucid_bytes = f.read()
        ref_bytes = save({k: v.contiguous() for k, v in expected.items()})
        n_l, n_r = struct.unpack("<Q", lucid_bytes[:8])[0], struct.unpack("<Q", ref_bytes[:8])[0]
        self.assertEqual(lucid_bytes[8 + n_l:], ref_bytes[8 + n_r:])
        # A state_dict for nn.Linear(3, 2) loads strictly.
        linear = torch.nn.Linear(3, 2)
        linear.load_state_dict({"weight": got["fc.weight"], "bias": got["fc.bias"]})
        self.assertTrue(torch.equal(linear(torch.tensor([[1.0, 1.0, 1.0]])), torch.tensor([[2.5, -1.75]])))

    def test_malformed_files_are_refused_by_both(self):
        for what, data, phrase in malformed_files():
            with self.subTest(what):
                path = self.path("bad.safetensors")
                with open(path, "wb") as f:
                    f.write(data)
                self.assertFalse(reference_accepts(path), "the reference accepts it: not a malformed file")
                r = run_tool("check", path)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertTrue(r.stdout.startswith(path + ": "), r.stdout)
                self.assertIn(phrase, r.stdout)

    def test_files_the_reference_accepts_lucid_accepts(self):
        for what, data in accepted_files():
            with self.subTest(what):
                path, out = self.path("ok.safetensors"), self.path("ok.out")
                with open(path, "wb") as f:
                    f.write(data)
                self.assertTrue(reference_accepts(path))
                r = run_tool("roundtrip", path, out)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                same_tensors(self, load_file(out), load_file(path))
                with safe_open(out, "pt") as f, safe_open(path, "pt") as g:
                    self.assertEqual(f.metadata(), g.metadata())

    def test_where_lucid_is_stricter_than_the_reference(self):
        # Each of these loads in the reference; lucid refuses it, by design.
        a = entry("a", "F32", [1], 0, 4)
        cases = [
            ("a dtype lucid lacks", file_bytes(obj(entry("a", "I16", [2], 0, 4)), b"\0" * 4),
             "lucid has no such dtype"),
            ("a repeated name", file_bytes(obj(a, a), b"\0" * 4), 'duplicate key "a"'),
            ("a repeated metadata key", file_bytes('{"__metadata__":{"k":"1","k":"2"}}'), 'duplicate key "k"'),
            ("an entry as an array", file_bytes('{"a":["F32",[1],[0,4]]}', b"\0" * 4), "expected an object"),
            ("a dtype as an object", file_bytes('{"a":{"dtype":{"F32":null},"shape":[1],"data_offsets":[0,4]}}', b"\0" * 4),
             '"dtype" must be a string'),
            ("a BOOL byte 2", file_bytes(obj(entry("m", "BOOL", [1], 0, 1)), b"\x02"), "is the byte 2"),
        ]
        for what, data, phrase in cases:
            with self.subTest(what):
                path = self.path("strict.safetensors")
                with open(path, "wb") as f:
                    f.write(data)
                r = run_tool("check", path)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertTrue(r.stdout.startswith(path + ": "), r.stdout)
                self.assertIn(phrase, r.stdout)
                if not reference_accepts(path):
                    print(f"note: the reference now refuses {what} too", file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
