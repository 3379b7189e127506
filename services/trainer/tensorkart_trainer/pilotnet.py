"""NVIDIA's PilotNet exactly as TensorKart's train.py builds it (so workshop weights load).

Input 66x200x3; Conv 24/36/48 (5x5, stride 2) and 64/64 (3x3), ReLU; Dense
1164/100/50/10 with dropout; softsign output of `outputs` values (TensorKart: 5, x y a b rb).
"""

from __future__ import annotations

OUTPUT_NAMES = ("x", "y", "a", "b", "rb")


def build_pilotnet(outputs: int = 5, input_shape: tuple[int, int, int] = (66, 200, 3), keep_prob: float = 0.8):
    """The PilotNet Keras model (uncompiled). Layer order matches TensorKart's Sequential model."""
    import keras
    from keras import layers

    drop = 1.0 - keep_prob
    return keras.Sequential(
        [
            keras.Input(shape=input_shape, name="frame"),
            layers.Conv2D(24, (5, 5), strides=(2, 2), activation="relu"),
            layers.Conv2D(36, (5, 5), strides=(2, 2), activation="relu"),
            layers.Conv2D(48, (5, 5), strides=(2, 2), activation="relu"),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.Flatten(),
            layers.Dense(1164, activation="relu"),
            layers.Dropout(drop),
            layers.Dense(100, activation="relu"),
            layers.Dropout(drop),
            layers.Dense(50, activation="relu"),
            layers.Dropout(drop),
            layers.Dense(10, activation="relu"),
            layers.Dropout(drop),
            layers.Dense(outputs, activation="softsign"),
        ],
        name="pilotnet",
    )
