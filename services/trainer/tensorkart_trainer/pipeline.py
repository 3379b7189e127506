"""The tf.data input pipeline: stream frames from shared storage, pre-process with the shared spec.

Frames are decoded in parallel and pre-processed by `PreprocessSpec.prepare` — the very
function serving runs — inside `tf.numpy_function`; scaling to the model input is the
spec's own rule (uint8 / 255 or raw bytes) written as one TF op, proven identical in
tests. Only file paths are held for the whole dataset; pixels live in a bounded shuffle
buffer, so memory stays flat as datasets grow. The optional cache keeps pre-processed
uint8 tensors on disk after the first epoch, so later epochs skip PNG decoding.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_trainer.decode import read_rgb
from tensorkart_trainer.params import Augmentation


class BadImage(ValueError):
    """An image that cannot be decoded (the job was told to fail on bad data)."""


class FrameLoader:
    """path -> (prepared uint8 frame, ok). Records unreadable images instead of crashing (skip mode)."""

    def __init__(self, spec: PreprocessSpec, fail_on_bad: bool = False) -> None:
        self.spec = spec
        self.fail_on_bad = fail_on_bad
        self.bad: dict[str, str] = {}
        self._lock = threading.Lock()
        self._blank = np.zeros(spec.input_shape, dtype=np.uint8)

    def load(self, path: str) -> np.ndarray:
        return self.spec.prepare(read_rgb(path))

    def __call__(self, path: bytes) -> tuple[np.ndarray, np.bool_]:
        name = path.decode() if isinstance(path, bytes) else str(path)
        try:
            return self.load(name), np.bool_(True)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            if self.fail_on_bad:
                raise BadImage(f"cannot decode {name}: {error}") from None
            with self._lock:
                self.bad[name] = str(error) or type(error).__name__
            return self._blank, np.bool_(False)


def scale(images, spec: PreprocessSpec):
    """The spec's to_model_input as a TF op: uint8 (or float 0..255) -> float32 model input."""
    import tensorflow as tf

    pixels = tf.cast(images, tf.float32)
    return pixels / tf.constant(255.0, tf.float32) if spec.scale == "unit" else pixels


DRAWS = 11
PERMUTATIONS = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))


def photometric(pixels, draws, aug: Augmentation):
    """Colour and lighting changes of one frame (float32 0..255), each drawn from `draws[3:]` (uniform 0..1):
    channel shuffle, hue, saturation, grayscale, contrast, brightness. Steering is unchanged."""
    import tensorflow as tf

    def signed(value, extent):
        return (value * 2.0 - 1.0) * extent

    if aug.channel_shuffle > 0:
        order = tf.gather(tf.constant(PERMUTATIONS, tf.int32), tf.minimum(tf.cast(draws[4] * 6.0, tf.int32), 5))
        shuffled = tf.gather(pixels, order, axis=2)
        pixels = tf.where(draws[5] < aug.channel_shuffle, shuffled, pixels)
    if aug.hue > 0 or aug.saturation > 0:
        unit = pixels / 255.0
        if aug.hue > 0:
            unit = tf.image.adjust_hue(unit, signed(draws[6], aug.hue))
        if aug.saturation > 0:
            unit = tf.image.adjust_saturation(unit, 1.0 + signed(draws[7], aug.saturation))
        pixels = tf.clip_by_value(unit, 0.0, 1.0) * 255.0
    if aug.grayscale > 0:
        grey = tf.tile(tf.image.rgb_to_grayscale(pixels), [1, 1, 3])
        pixels = tf.where(draws[8] < aug.grayscale, grey, pixels)
    if aug.contrast > 0:
        mean = tf.reduce_mean(pixels)
        pixels = (pixels - mean) * (1.0 + signed(draws[9], aug.contrast)) + mean
    if aug.brightness > 0:
        pixels = pixels * (1.0 + signed(draws[3], aug.brightness))
    return tf.clip_by_value(pixels, 0.0, 255.0)


def augment_fn(aug: Augmentation, steer_index: int | None, seed: int, input_shape: tuple[int, int, int]):
    """A tf.data map function (index, image uint8, label) -> (image float32 0..255, label), seeded."""
    import tensorflow as tf

    height, width = input_shape[0], input_shape[1]

    def apply(index, image, label):
        seeds = tf.stack([tf.cast(seed, tf.int64), tf.cast(index, tf.int64)])
        draws = tf.random.stateless_uniform([DRAWS], seed=seeds, minval=0.0, maxval=1.0)
        pixels = tf.cast(image, tf.float32)
        steer = label[steer_index] if steer_index is not None else tf.constant(0.0)
        if aug.flip > 0:
            flip = draws[0] < aug.flip
            pixels = tf.cond(flip, lambda: tf.reverse(pixels, axis=[1]), lambda: pixels)
            steer = tf.where(flip, -steer, steer)
        if aug.shift_px > 0 or aug.rotate_deg > 0:
            dx = (draws[1] * 2.0 - 1.0) * aug.shift_px
            angle = (draws[2] * 2.0 - 1.0) * aug.rotate_deg * np.pi / 180.0
            cos, sin = tf.cos(angle), tf.sin(angle)
            cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
            # Output pixel (x, y) samples input (a0 x + a1 y + a2, b0 x + b1 y + b2): rotate about the centre, shift.
            transform = tf.stack(
                [cos, -sin, cx - cos * cx + sin * cy - dx, sin, cos, cy - sin * cx - cos * cy, 0.0, 0.0]
            )
            pixels = tf.raw_ops.ImageProjectiveTransformV3(
                images=pixels[None],
                transforms=transform[None],
                output_shape=tf.constant([height, width]),
                fill_value=0.0,
                interpolation="BILINEAR",
                fill_mode="NEAREST",
            )[0]
            # Content moved right = camera left of its path: steer right to recover (PilotNet's shifted views).
            steer = steer + dx * aug.shift_steering_per_px - angle * 180.0 / np.pi * aug.rotate_steering_per_deg
        if aug.channel_shuffle > 0 or aug.photometric:
            pixels = photometric(pixels, draws, aug)
        if steer_index is not None:
            steer = tf.clip_by_value(steer, -1.0, 1.0)
            label = tf.tensor_scatter_nd_update(label, [[steer_index]], [steer])
        return pixels, label

    return apply


def build_dataset(
    paths: Sequence[str],
    labels: np.ndarray,
    spec: PreprocessSpec,
    loader: FrameLoader,
    batch_size: int,
    training: bool,
    seed: int = 0,
    shuffle_buffer: int = 512,
    cache_dir: Path | None = None,
    augmentation: Augmentation | None = None,
    steer_index: int | None = None,
    parallel: int | None = None,
):
    """Batched (model input float32, labels float32) dataset streaming `paths` from disk."""
    import tensorflow as tf

    # Fixed parallelism and buffers, not AUTOTUNE: autotuning grows its buffers over a long
    # epoch (up to half the RAM), so memory would grow with the dataset.
    workers = parallel or os.cpu_count() or 2
    shape = spec.input_shape
    ds = tf.data.Dataset.from_tensor_slices((np.asarray(list(paths), dtype=object).astype(str), labels))
    if training and cache_dir is None:
        # Shuffling paths is cheap and exact: the whole epoch is permuted without holding any pixels.
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)

    def load(path, label):
        image, ok = tf.numpy_function(loader, [path], [tf.uint8, tf.bool], stateful=False)
        image.set_shape(shape)
        ok.set_shape(())
        return image, ok, label

    ds = ds.map(load, num_parallel_calls=workers, deterministic=not training)

    def usable(image, ok, label):
        return ok

    def drop_flag(image, ok, label):
        return image, label

    ds = ds.filter(usable).map(drop_flag)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        ds = ds.cache(str(cache_dir / ("train" if training else "validation")))
        if training:
            ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if training and augmentation is not None and augmentation.enabled:
        apply = augment_fn(augmentation, steer_index, seed, shape)

        def augment(index, item):
            return apply(index, *item)

        ds = ds.enumerate().map(augment, num_parallel_calls=workers)

    def to_model_input(images, y):
        return scale(images, spec), y

    ds = ds.batch(batch_size).map(to_model_input, num_parallel_calls=2)
    return ds.prefetch(2)
