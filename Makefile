# The README's two commands, `make demo` and `make test`, and the rest of the project's jobs.
# Every target installs what it is missing first (scripts/deps.sh is quick when nothing is).

CARGO ?= cargo
OUT ?= out
# Tests build optimised without LTO (profile `ci`); the demo and installs use `release`.
TEST_PROFILE ?= ci

.PHONY: all deps models models-all media build demo test lint bench eval-faces eval-denoise eval-vhs eval-qc eval-upscale clean

all: build

deps:
	scripts/deps.sh

models:
	python3 models/fetch.py models

# Optional models too (the INT8 CenterFace used by the benchmarks).
models-all:
	python3 models/fetch.py models-all

media:
	python3 models/fetch.py media

build: deps
	$(CARGO) build --release --workspace

demo: build
	scripts/make-clip.sh $(OUT)/demo-input.mp4 1280x720 8
	GST_PLUGIN_PATH=$(CURDIR)/target/release pipelines/anonymize.sh $(OUT)/demo-input.mp4 $(OUT)/demo-anonymized.mp4
	@echo
	@echo "demo: input  $(OUT)/demo-input.mp4 (astronaut photograph panning across 1280x720, with audio)"
	@echo "demo: output $(OUT)/demo-anonymized.mp4 (face blurred by onnxfacedetect ! gpublur, H.264 + AAC)"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --profile $(TEST_PROFILE) --workspace --all-targets -- -D warnings

test: deps
	$(CARGO) build --profile $(TEST_PROFILE) --workspace
	$(MAKE) lint
	$(CARGO) test --profile $(TEST_PROFILE) --workspace

bench: build models-all
	benches/anonymize.sh
	benches/blur.sh
	benches/denoise.sh
	benches/qc.sh
	benches/upscale.sh

# Speech denoising quality (SI-SDR gain) of audiodenoise's engines beside webrtcdsp and
# FFmpeg's afftdn on the same mixtures.
eval-denoise: build models media
	"$$(benches/venv.sh)" benches/eval_denoise.py $(CURDIR)/target/release

# Analog tape restoration quality (PSNR/SSIM against the clean source) and speed of vhsrestore
# beside FFmpeg's yadif/bwdif/hqdn3d/eq chains and GStreamer's greedyh, on one degraded clip.
eval-vhs: build media
	"$$(benches/venv.sh)" benches/eval_vhs.py $(CURDIR)/target/release

# Super-resolution quality (PSNR/SSIM against the original) of upscale's network and spatial
# path beside videoscale's lanczos and bilinear, on real photographs averaged down.
eval-upscale: build models media
	"$$(benches/venv.sh)" benches/eval_upscale.py $(CURDIR)/target/release

# Fingerprint matching of re-encoded, scaled, colour-shifted and cropped copies, ours beside
# FFmpeg's signature filter on the same pairs.
eval-qc: build media
	benches/eval_qc.sh

# Face recall and false positives per face size, ours beside deface (EVAL_OPTS: extra
# onnxfacedetect properties, e.g. EVAL_OPTS=max-input-size=640).
eval-faces: build models-all
	"$$(benches/venv.sh)" benches/eval_faces.py $(CURDIR)/target/release $(EVAL_OPTS)

clean:
	$(CARGO) clean
	rm -rf $(OUT)
