# What the first run costs, and where: one detector (its size known at start, and not: then
# a tiny shape at start pays what is per process, the stream's shape in the caps what is per
# shape), with cuDNN's heuristic search and eager module loading beside; four sessions at once.
. benches/gpu/env.sh
one() { GST_DEBUG=onnxfacedetect:4 gst-launch-1.0 -q videotestsrc num-buffers=3 ! video/x-raw,format=I420,width=1920,height=1080 $1 ! onnxfacedetect ! fakesink 2>&1 | grep -o "session ready.*\|network input.*\|runs on.*" | sed 's/\x1b\[[0-9;]*m//g'; }
echo "== caps known at start"; one ""
echo "== caps unknown at start (tiny shape, then the stream's)"; one "! videoscale"
echo "== HEURISTIC"; MEDIAAI_CUDA_OPTIONS=cudnn_conv_algo_search=HEURISTIC one ""
echo "== EAGER"; CUDA_MODULE_LOADING=EAGER one ""
echo "== 4 sessions started together in one process"
GST_DEBUG=onnxfacedetect:4 $S 4 separate $RAW 1920x1080 live 2>&1 | grep -o "session ready.*\|network input.*\|streams=.*" | sed 's/\x1b\[[0-9;]*m//g'
