# Raw I420 1080p25 frames: a photograph of a face (scikit-image's astronaut) panning over
# another photograph (coffee), as the live-streams issue measured. Usage: mkclip.py OUT FRAMES
import sys, numpy as np, cv2
from skimage import data
out, n = sys.argv[1], int(sys.argv[2])
W, H = 1920, 1080
bg = cv2.resize(cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR), (W, H))
face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (480, 480))
with open(out, 'wb') as f:
    for k in range(n):
        img = bg.copy()
        x = int(100 + (W - 700) * (0.5 - 0.5 * np.cos(2 * np.pi * k / 200)))
        y = 300
        img[y:y + 480, x:x + 480] = face
        f.write(cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420).tobytes())
