"""lucid's TensorBoard event files and JSONL scalar log, read back by the
reference readers: TensorBoard's own record reader, event loaders and
accumulators, protobuf, PIL, numpy and Python's json module.

Runs $LUCID_BUILD_DIR/tests/write_events (tests/tools/write_events.cpp; its
header comment says what it writes, and the rules are restated below), then
checks every record, the purge of a resumed run, corruption detection, and the
JSONL values bit for bit. Prints each check; exits 1 if any fails.
"""
import io
import json
import logging
import math
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.compat.proto import event_pb2, types_pb2
from tensorboard.compat.tensorflow_stub import errors as tb_errors
from tensorboard.compat.tensorflow_stub import pywrap_tensorflow as tb_stub
from tensorboard.util import tensor_util

failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


# ---- what write_events writes (tests/tools/write_events.cpp) ----------------
TEXT = "**lucid** logs \u00e9t\u00e9\n\n| a | b |\n|---|---|\n| 1 | 2 |"
EDGE_VALUES = [0.1, 1.0 / 3.0, -0.0, 5e-324, 1.7976931348623157e308, 2.0, 1e16, math.nan, math.inf, -math.inf]
EDGE_TAGS = ["\u00e9t\u00e9/\x01", 'quote"back\\slash\nnew\tline']


def wall(step):
    return 1765142400.0 + 1.5 * step + 0.123456


def loss(step):
    return 1.0 / (step + 1)


def pixel(y, x, c):
    return (7 * y + 3 * x + 50 * c) % 256


WEIGHTS = (np.arange(1000, dtype=np.float64) - 500.0) / 64.0  # exact in float32 too


def expected_histogram(values):
    """PyTorch's default buckets (bins="tensorflow"), computed here from
    numpy's np.histogram: edges 0 and +-1e-12 * 1.1^k below 1e20, then the
    empty bins outside the non-empty range dropped, keeping one empty bin on
    the left. Returns (bucket_limit, bucket)."""
    positive = []
    v = 1e-12
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    edges = np.array([-p for p in reversed(positive)] + [0.0] + positive)
    counts, _ = np.histogram(values, bins=edges)
    nonzero = np.flatnonzero(counts)
    first, last = int(nonzero[0]), int(nonzero[-1])
    if first > 0:
        return list(edges[first : last + 2]), [float(c) for c in counts[first - 1 : last + 1]]
    return list(edges[: last + 2]), [0.0] + [float(c) for c in counts[: last + 1]]


# ---- helpers ----------------------------------------------------------------
def raw_records(path):
    return list(event_file_loader.RawEventFileLoader(path).Load())


def frame(data):
    """One TFRecord, framed with TensorBoard's own masked CRC."""
    n = struct.pack("<Q", len(data))
    return n + struct.pack("<I", tb_stub.masked_crc32c(n)) + data + struct.pack("<I", tb_stub.masked_crc32c(data))


def summary_values(events, kind):
    out = []
    for e in events:
        if e.HasField("summary"):
            for v in e.summary.value:
                if v.WhichOneof("value") == kind:
                    out.append((e, v))
    return out


def main():
    build = os.environ["LUCID_BUILD_DIR"]
    tool = os.path.join(build, "tests", "write_events")
    if not os.access(tool, os.X_OK):
        print(f"FAIL: {tool} is not built (cmake --build {build} --target write_events)")
        return 1
    work = tempfile.mkdtemp(prefix="lucid_tb_")
    try:
        before = time.time()
        proc = subprocess.Popen([tool, work])
        rc = proc.wait()
        after = time.time()
        check(rc == 0, f"write_events exited {rc}")
        if rc != 0:
            return 1
        check_event_files(os.path.join(work, "run"), proc.pid, before, after)
        check_purge(os.path.join(work, "run"), work)
        check_corruption(os.path.join(work, "run"), work)
        check_jsonl(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} check(s) failed" if failures else "all checks passed")
    return 1 if failures else 0


def event_files(run_dir):
    return sorted(os.path.join(run_dir, f) for f in os.listdir(run_dir))


def check_event_files(run_dir, pid, before, after):
    files = event_files(run_dir)
    check(len(files) == 2, f"two event files in the run dir: {[os.path.basename(f) for f in files]}")
    pattern = re.compile(r"events\.out\.tfevents\.(\d{10})\.(.+)\.(\d+)\.(\d+)$")
    for i, f in enumerate(files):
        m = pattern.match(os.path.basename(f))
        check(m is not None, f"{os.path.basename(f)} is events.out.tfevents.<%010d>.<host>.<pid>.<n>")
        if m:
            check(int(before) <= int(m.group(1)) <= int(after) + 1, "  its seconds are the creation time")
            check(m.group(2) == socket.gethostname(), "  its host is socket.gethostname()")
            check(int(m.group(3)) == pid, "  its pid is the writing process's")
            check(int(m.group(4)) == i, f"  its writer number is {i}")

    for f in files:
        raws = raw_records(f)
        same = all(event_pb2.Event.FromString(r).SerializeToString() == r for r in raws)
        check(same, f"{os.path.basename(f)}: {len(raws)} records, each the bytes protobuf itself writes for it")

    events = list(event_file_loader.LegacyEventFileLoader(files[0]).Load())
    check(len(events) == 1 + 20 + 2 + 2 + 1, f"first file: 26 events (file_version, 20 scalars, 2 images, "
          f"2 histograms, 1 text): {len(events)}")
    first = events[0]
    check(first.file_version == "brain.Event:2", "the first event is file_version brain.Event:2")
    check(before <= first.wall_time <= after, f"its wall_time {first.wall_time!r} is when the tool ran")
    check(first.wall_time != int(first.wall_time), "its wall_time has a sub-second part")

    # train/acc is 0.0 at step 0: simple_value is a oneof member, so it must be
    # written even then, or the value holds nothing and readers drop it.
    scalars = summary_values(events, "simple_value")
    for tag, fn in (("train/loss", loss), ("train/acc", lambda s: s / 10.0)):
        got = [(e.step, v.simple_value, e.wall_time) for e, v in scalars if v.tag == tag]
        want = [(s, float(np.float32(fn(s))), wall(s)) for s in range(10)]
        check(got == want, f"{tag}: steps 0..9, values as float32, wall_times with their .123456 kept exactly")

    images = summary_values(events, "image")
    check([e.step for e, _ in images] == [3, 8], "images at steps 3 and 8")
    try:
        from PIL import Image
    except ImportError:
        Image = None
    for e, v in images:
        im = v.image
        check((im.height, im.width, im.colorspace) == (12, 20, 3), f"image step {e.step}: 12 x 20, colorspace 3")
        if Image is not None:
            decoded = Image.open(io.BytesIO(im.encoded_image_string))
            px = np.asarray(decoded)
            want = np.array([[[pixel(y, x, c) for c in range(3)] for x in range(20)] for y in range(12)])
            check(decoded.format == "PNG" and decoded.mode == "RGB" and px.shape == (12, 20, 3)
                  and np.array_equal(px, want), f"image step {e.step}: PIL decodes the PNG to every pixel")
        else:
            check(im.encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n", f"image step {e.step}: a PNG (no PIL)")

    histos = summary_values(events, "histo")
    check([e.step for e, _ in histos] == [4, 7], "histograms at steps 4 and 7")
    limits, buckets = expected_histogram(WEIGHTS)
    for e, v in histos:
        h = v.histo
        check((h.min, h.max, h.num, h.sum, h.sum_squares)
              == (WEIGHTS.min(), WEIGHTS.max(), 1000.0, WEIGHTS.sum(), float(WEIGHTS @ WEIGHTS)),
              f"histogram step {e.step}: min {h.min}, max {h.max}, num {h.num}, sum {h.sum}, "
              f"sum_squares {h.sum_squares}")
        check(list(h.bucket_limit) == limits and list(h.bucket) == buckets,
              f"histogram step {e.step}: {len(h.bucket)} buckets equal numpy's over PyTorch's default edges")

    texts = summary_values(events, "tensor")
    check(len(texts) == 1, "one text event")
    for e, v in texts:
        check(e.step == 5 and v.tag == "notes/text_summary", "text at step 5 under notes/text_summary")
        check(v.metadata.plugin_data.plugin_name == "text", "  for the text plugin")
        check(v.tensor.dtype == types_pb2.DT_STRING and [d.size for d in v.tensor.tensor_shape.dim] == [1],
              "  a DT_STRING tensor of shape [1]")
        arr = tensor_util.make_ndarray(v.tensor)
        check(arr.shape == (1,) and arr[0].decode("utf-8") == TEXT, "  holding the text, UTF-8")

    # TensorBoard's read-time compat layer (what its loaders feed the plugins).
    plugins = {}
    for f in files:
        for e in event_file_loader.EventFileLoader(f).Load():
            for v in e.summary.value:
                name = v.metadata.plugin_data.plugin_name
                plugins[name] = plugins.get(name, 0) + 1
    check(all(plugins.get(k, 0) > 0 for k in ("scalars", "images", "histograms", "text")),
          f"EventFileLoader routes them to the scalars, images, histograms and text plugins: {plugins}")

    resumed = list(event_file_loader.LegacyEventFileLoader(files[1]).Load())
    check(len(resumed) == 6, f"second file: file_version, 2 x START, 3 scalars: {len(resumed)} events")
    starts = [e for e in resumed if e.HasField("session_log")]
    check(len(starts) == 2 and all(e.step == 6 and e.session_log.status == event_pb2.SessionLog.START
                                   for e in starts)
          and resumed[1] in starts and resumed[2] in starts,
          "right after file_version, two SessionLog START at the purge step 6")


def check_purge(run_dir, work):
    acc = event_accumulator.EventAccumulator(run_dir, size_guidance={k: 0 for k in
                                             (event_accumulator.SCALARS, event_accumulator.IMAGES,
                                              event_accumulator.HISTOGRAMS, event_accumulator.TENSORS)})
    acc.Reload()
    got = [(e.step, e.value) for e in acc.Scalars("train/loss")]
    want = [(s, float(np.float32(loss(s)))) for s in range(6)] + [(s, 100.0 + s) for s in (6, 7, 8)]
    check(got == want, "EventAccumulator: train/loss is the killed run's 0..5, then the resumed run's 6..8")
    check([e.step for e in acc.Scalars("train/acc")] == list(range(6)),
          "EventAccumulator: train/acc keeps steps 0..5 (the killed run's 6..9 purged, every tag)")
    check([e.step for e in acc.Histograms("weights")] == [4], "EventAccumulator: the step-7 histogram is purged")
    check([e.step for e in acc.Images("samples")] == [3], "EventAccumulator: the step-8 image is purged")

    def plugin_steps(directory):
        p = plugin_event_accumulator.EventAccumulator(directory, size_guidance={plugin_event_accumulator.TENSORS: 0})
        p.Reload()
        return {tag: [e.step for e in p.Tensors(tag)] for tag in ("train/loss", "train/acc", "weights", "samples")}

    steps = plugin_steps(run_dir)
    check(steps == {"train/loss": list(range(9)), "train/acc": list(range(6)), "weights": [4], "samples": [3]},
          f"tensorboard --load_fast=false's accumulator purges too: {steps}")

    # Why two STARTs: with one (as PyTorch writes), that accumulator takes it
    # for the run's first session start and purges nothing.
    one_dir = os.path.join(work, "one_start")
    os.makedirs(one_dir)
    files = event_files(run_dir)
    shutil.copy(files[0], one_dir)
    raws = raw_records(files[1])
    with open(os.path.join(one_dir, os.path.basename(files[1])), "wb") as f:
        f.write(b"".join(frame(r) for i, r in enumerate(raws) if i != 2))
    steps = plugin_steps(one_dir)
    check(steps["train/acc"] == list(range(10)),
          "with a single START, that accumulator keeps the killed run's train/acc 6..9 (so lucid writes two)")


def check_corruption(run_dir, work):
    original = event_files(run_dir)[0]
    data = open(original, "rb").read()
    # Record k starts after the k records before it: 8 + 4 + len + 4 bytes each.
    starts, at = [], 0
    while at < len(data):
        starts.append(at)
        at += 16 + struct.unpack("<Q", data[at : at + 8])[0]
    check(at == len(data) and len(starts) == 26, "the first file is exactly 26 framed records")
    third = starts[2]

    logger = logging.getLogger("tensorboard")
    caught = []

    class Keep(logging.Handler):
        def emit(self, record):
            caught.append(record.getMessage())

    handler = Keep(level=logging.DEBUG)
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        for name, offset, message in (("length", third + 1, "failed header crc32 check"),
                                      ("payload", third + 12 + 5, "failed event crc32 check")):
            bad = bytearray(data)
            bad[offset] ^= 0x01
            path = os.path.join(work, f"corrupt_{name}.tfevents")
            open(path, "wb").write(bytes(bad))
            # TensorBoard's pure-Python record reader (used when TensorFlow is
            # not installed) raises DataLossError on a CRC mismatch...
            reader = tb_stub.PyRecordReader_New(path)
            read, error = 0, None
            try:
                while True:
                    reader.GetNext()
                    read += 1
            except tb_errors.DataLossError as e:
                error = str(e)
            except tb_errors.OutOfRangeError:
                pass
            check(read == 2 and error is not None and message in error,
                  f"a flipped bit in the 3rd record's {name}: PyRecordReader_New reads 2 records, then "
                  f"DataLossError ({error})")
            # ...which the event loader swallows: it stops at the bad record
            # and logs it (at debug level), keeping what came before.
            caught.clear()
            n = len(raw_records(path))
            check(n == 2 and any(message in m for m in caught),
                  f"  RawEventFileLoader yields the 2 records before it and logs '{message}'")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def same_double(a, b):
    return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))


def check_jsonl(work):
    text = open(os.path.join(work, "scalars.jsonl"), encoding="utf-8").read()
    check(text.endswith("\n"), "scalars.jsonl ends with a whole line (the partial one was dropped)")
    rows = [json.loads(line) for line in text.splitlines()]
    check(all(list(r) == ["step", "tag", "value", "wall_time"] for r in rows), "keys step, tag, value, wall_time")
    got = [(r["step"], r["tag"], r["value"], r["wall_time"]) for r in rows]
    want = ([(s, "train/loss", loss(s), wall(s)) for s in range(6)]
            + [(s, "train/loss", 100.0 + s, wall(s) + 1000) for s in (6, 7, 8)])
    check(got == want, "scalars.jsonl: the killed run's steps 0..5, the resumed run's 6..8, values and "
          "wall_times exactly equal")
    check(all(type(r["value"]) is float for r in rows), "values read back as floats (2.0 is written 2.0)")

    rows = [json.loads(line) for line in open(os.path.join(work, "edge.jsonl"), encoding="utf-8")]
    check([r["step"] for r in rows] == list(range(len(EDGE_VALUES))), f"edge.jsonl: {len(EDGE_VALUES)} lines")
    check(all(same_double(r["value"], v) for r, v in zip(rows, EDGE_VALUES)),
          "edge.jsonl: 0.1, 1/3, -0.0, 5e-324, DBL_MAX, 2.0, 1e16, NaN, Infinity, -Infinity read back bit for bit")
    check(all(r["tag"] == EDGE_TAGS[i % 2] for i, r in enumerate(rows)),
          "edge.jsonl: tags with quotes, backslashes, control characters and UTF-8 read back equal")
    check(all(r["wall_time"] == wall(i) for i, r in enumerate(rows)), "edge.jsonl: wall_times exact")


if __name__ == "__main__":
    sys.exit(main())
