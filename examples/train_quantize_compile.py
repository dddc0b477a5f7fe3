"""Train, quantize, compile, verify: a Keras model to microcontroller C++ in one script.

Notebook-style (each `# %%` cell runs on its own in Jupyter or VS Code). It needs the tf
extra: `pip install 'utc[tf]'` (TensorFlow's converter quantizes the model).

    python examples/train_quantize_compile.py [--epochs 8] [--output quadrants_out]
                                              [--tflite quadrants.tflite]

1. make a synthetic data set: 16x16 noisy images with a bright blob in one quadrant,
   labelled by the quadrant (seeded, nothing downloaded);
2. train a small CNN in Keras (float32);
3. quantize it to full int8 with TensorFlow's TFLite converter, calibrated on training
   images (`utc.convert_keras`; `utc.from_keras` does this and step 4 in one call);
4. compile the .tflite with utc and print the memory report;
5. verify the generated code bit-exact against TFLite Micro's interpreter on the test
   images, and compare its predicted classes with the float model's;
6. write the C++ folder, and the .tflite it came from beside it.

Exit status 0 when the compiled model matches TFLite Micro, 1 otherwise.
"""

# %% imports and options
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import keras
import numpy as np
import utc

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=8, help="training epochs (default 8)")
parser.add_argument("--output", default="quadrants_out", help="folder for the C++ code")
parser.add_argument("--tflite", default="quadrants.tflite", help="where the quantized model goes")
args = parser.parse_args()


# %% 1. data: which quadrant holds the bright blob?
def quadrant_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.15, (n, 16, 16, 1)).astype(np.float32)
    y = rng.integers(0, 4, n)
    for i in range(n):
        row = 8 * (y[i] // 2) + rng.integers(1, 6)
        col = 8 * (y[i] % 2) + rng.integers(1, 6)
        x[i, row:row + 2, col:col + 2, 0] += rng.uniform(0.8, 1.2)
    return x, y


train_x, train_y = quadrant_images(2000, seed=1)
test_x, test_y = quadrant_images(300, seed=2)

# %% 2. a small CNN, trained in float32
keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((16, 16, 1)),
    keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.DepthwiseConv2D(3, padding="same", activation="relu"),
    keras.layers.Conv2D(16, 1, activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(),
    keras.layers.Dense(4),
    keras.layers.Softmax(),
], name="quadrants")
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_x, train_y, epochs=args.epochs, batch_size=32, verbose=0)
float_classes = model.predict(test_x, verbose=0).argmax(axis=1)
print(f"float model: test accuracy {(float_classes == test_y).mean():.1%}")

# %% 3. quantize: full int8 (int8 inputs and outputs), calibrated on 200 training images
tflite = utc.convert_keras(model, train_x[:200], quantize="int8")
print(f"quantized .tflite: {len(tflite):,} bytes")

# %% 4. compile with utc (host code here; target="cortex-m4" etc. for a microcontroller)
m = utc.compile(tflite, opt=2, target="host", name="quadrants", source="quadrants.tflite")
print(m)
print(m.report())

# %% 5. verify against TFLite Micro, and compare the predicted classes with the float model's
spec = m.inputs[0]
q = spec["quantization"]
test_q = np.clip(np.round(test_x / q["scale"]) + q["zero_point"], -128, 127).astype(np.int8)
samples = test_q.reshape(len(test_q), *spec["shape"])  # [N, 1, 16, 16, 1]: N samples
check = utc.verify(m, samples)
print(check.format("quadrants.tflite (-O2) on the test images"))
outputs = m.run_samples(list(samples))
classes = np.array([y[0].argmax() for y in outputs])
print(f"int8 code: test accuracy {(classes == test_y).mean():.1%}, same class as the float "
      f"model on {(classes == float_classes).mean():.1%} of the test images")

# %% 6. the C++ folder, ready for a firmware build, and the .tflite it came from (outside the
# folder: utc replaces the folder it writes, and refuses one holding files it did not write)
files = m.write(args.output)
Path(args.tflite).write_bytes(tflite)
print(f"wrote {len(files)} files to {args.output}/ (arena {m.arena_bytes:,} B, weights "
      f"{m.weight_bytes:,} B) and {args.tflite}")
sys.exit(0 if check.passed else 1)
