# The README's two commands, `make demo` and `make test`, and the rest of the project's jobs.
# Every target installs what it is missing first (scripts/deps.sh is quick when nothing is).

CARGO ?= cargo
# Mesa's Vulkan device-selection layer (mesa-vulkan-drivers) probes for a Wayland display and,
# on a headless machine, prints "error: XDG_RUNTIME_DIR is invalid"; the plugins choose their
# adapter themselves (MEDIAAI_GPU_ADAPTER), so the layer is switched off for the project's jobs.
export NODEVICE_SELECT ?= 1
OUT ?= out
# Tests build optimised without LTO (profile `ci`); the demo and installs use `release`.
TEST_PROFILE ?= ci

.PHONY: all deps models models-all media gpu-runtime build demo test lint bench eval-faces eval-keep check-dlibface eval-denoise eval-vhs eval-qc eval-upscale fuzz soak clean

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

# ONNX Runtime's CUDA build (a 256 MB wheel) into .deps/onnxruntime-gpu: `meson install` installs
# it in place of the CPU build, or ORT_DYLIB_PATH names its libonnxruntime.so; then
# execution-provider=auto runs the networks on CUDA where CUDA 13 and cuDNN 9 are on the
# library path.
gpu-runtime:
	python3 models/fetch.py runtime-gpu

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

test:
	scripts/deps.sh test
	$(CARGO) build --profile $(TEST_PROFILE) --workspace
	$(MAKE) lint
	$(CARGO) test --profile $(TEST_PROFILE) --workspace

bench: build models-all
	benches/anonymize.sh
	benches/streams.sh
	benches/blur.sh
	benches/denoise.sh
	benches/qc.sh
	benches/upscale.sh
	benches/gpu_chain.sh

# Speech denoising quality (SI-SDR gain) of audiodenoise's engines beside webrtcdsp and
# FFmpeg's afftdn on the same mixtures.
eval-denoise: build models media
	"$$(benches/venv.sh)" benches/eval_denoise.py $(CURDIR)/target/release

# Analog tape restoration quality (PSNR/SSIM against the clean source) and speed of vhsrestore
# beside the best FFmpeg chain (four deinterlacers, hqdn3d/nlmeans/atadenoise, eq told the
# levels), on sixteen damage and camera-motion models over tuning and held-out photographs.
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

# Telling people apart for onnxfacekeep: genuine and impostor similarities of its descriptor
# models through the element, the threshold from the tuning part, checked on the held-out part.
eval-keep: build models-all media
	"$$(benches/venv.sh)" benches/eval_keep.py $(CURDIR)/target/release

# onnxfacekeep's descriptor model against face-api's own network under TensorFlow.js (npm).
check-dlibface: models media
	benches/check_dlibface.sh

# libFuzzer over every fuzz target (fuzz/, bodies in tests/fuzzing.rs) for FUZZ_SECONDS each;
# `make test` runs the same bodies briefly. cargo-fuzz comes from crates.io; the stable
# toolchain runs it through RUSTC_BOOTSTRAP. No sanitizer: the targets are safe Rust and the C
# libraries under them are not instrumented; panics, overflows (-a: debug assertions on),
# hangs and runaway memory are what it finds.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = model_output deepfilter_archive qc_report caps
fuzz: deps
	command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	[ -f fuzz/Cargo.lock ] || cp Cargo.lock fuzz/Cargo.lock
	for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/corpus/$$t && cp -n fuzz/seeds/$$t/* fuzz/corpus/$$t/ 2>/dev/null; \
		RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -s none -a --fuzz-dir fuzz $$t fuzz/corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 || exit 1; \
	done

# Eight anonymise + QC chains in one process for SOAK_SECONDS (RSS flat within 5%, frames in =
# frames out, no errors), then the leak check: every element's state cycles under valgrind,
# failing on any block definitely lost from our code.
SOAK_SECONDS ?= 600
soak: deps
	$(CARGO) build --profile $(TEST_PROFILE) --workspace --examples
	GST_PLUGIN_PATH=$(CURDIR)/target/$(TEST_PROFILE) target/$(TEST_PROFILE)/examples/soak $(SOAK_SECONDS)
	scripts/leak-check.sh target/$(TEST_PROFILE)

clean:
	$(CARGO) clean
	rm -rf $(OUT)
