#!/bin/sh
# `make check-dlibface`: models/dlibface.onnx against the network it was written from — face-api's
# own FaceRecognitionNet under TensorFlow.js (npm @tensorflow/tfjs 4.22, CPU backend) with the
# same weights (npm @vladmandic/face-api 1.7.15) — on the astronaut's face and on noise.
# Prints the largest difference of the 128 values; fails above 1e-5.
set -eu
cd "$(dirname "$0")/.."
WORK=.deps/node-faceapi
mkdir -p "$WORK"
PY=$(benches/venv.sh)
if [ ! -d "$WORK/node_modules/@vladmandic/face-api" ]; then
    (cd "$WORK" && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts \
        @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0 @vladmandic/face-api@1.7.15 >/dev/null)
fi
cat > "$WORK/reference.cjs" <<'JS'
// face-api's own network (TensorFlow.js, CPU backend) on the inputs in argv[2] (JSON, 150x150x3
// RGB 0-255 each); descriptors to argv[3].
const tf = require('@tensorflow/tfjs');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const fs = require('fs');
(async () => {
  await tf.setBackend('cpu');
  const dir = 'node_modules/@vladmandic/face-api/model/';
  const manifest = JSON.parse(fs.readFileSync(dir + 'face_recognition_model-weights_manifest.json'));
  const bin = fs.readFileSync(dir + 'face_recognition_model.bin');
  const net = new faceapi.FaceRecognitionNet();
  net.loadFromWeightMap(tf.io.decodeWeights(new Uint8Array(bin).buffer, manifest[0].weights));
  const out = [];
  for (const a of JSON.parse(fs.readFileSync(process.argv[2]))) {
    out.push(Array.from(await net.computeFaceDescriptor(tf.tensor4d(Float32Array.from(a), [1, 150, 150, 3]))));
  }
  fs.writeFileSync(process.argv[3], JSON.stringify(out));
})();
JS
"$PY" - "$WORK" <<'PY'
import json, subprocess, sys
import cv2, numpy as np, onnxruntime as ort
work = sys.argv[1]
face = cv2.imread(".deps/media/astronaut.png")[30:230, 150:350, ::-1]
inputs = [cv2.resize(face, (150, 150)).astype(np.float32),
          np.random.default_rng(1).uniform(0, 255, (150, 150, 3)).astype(np.float32)]
json.dump([i.ravel().tolist() for i in inputs], open(f"{work}/in.json", "w"))
subprocess.run(["node", "reference.cjs", "in.json", "out.json"], cwd=work, check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ref = np.array(json.load(open(f"{work}/out.json")), np.float32)
got = ort.InferenceSession("models/dlibface.onnx").run(
    ["descriptor"], {"input": np.stack(inputs).transpose(0, 3, 1, 2).copy()})[0]
diff = float(np.abs(got - ref).max())
print(f"dlibface.onnx against face-api under TensorFlow.js: largest difference {diff:.2e} "
      f"(values up to {float(np.abs(ref).max()):.2f})")
sys.exit(0 if diff < 1e-5 else 1)
PY
