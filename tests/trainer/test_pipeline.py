"""The tf.data pipeline gives exactly what serving computes (the shared spec), with real pixels."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tensorkart_core import datasets
from tensorkart_core.preprocess import DEFAULT_SPEC, PreprocessSpec
from tensorkart_trainer.params import Augmentation
from tests.trainer.tinydata import make_dataset

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SPECS = [
    DEFAULT_SPEC,
    PreprocessSpec(crop_top=0.4, crop_bottom=0.95, crop_left=0.05, interpolation="bicubic", scale="byte"),
]


def _serving(paths: list[str], spec: PreprocessSpec) -> np.ndarray:
    """What the inference side does with a screen frame: spec(rgb)."""
    return np.stack([spec(np.asarray(Image.open(p).convert("RGB"))) for p in paths])


def _pipeline_batches(paths, labels, spec, cache_dir=None, training=False, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    from tensorkart_trainer.pipeline import FrameLoader, build_dataset

    ds = build_dataset(paths, labels, spec, FrameLoader(spec), 4, training=training, cache_dir=cache_dir, **kwargs)
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("spec", SPECS, ids=["default", "crop-bicubic-byte"])
def test_prepared_tensors_match_serving_and_carry_the_picture(data_root: Path, tmp_path: Path, spec) -> None:
    make_dataset(data_root, "d", frames=10)
    scan = datasets.scan(data_root, "d")
    paths = [s.path for s in scan.samples]
    labels = np.asarray([s.values[:1] for s in scan.samples], np.float32)
    expected = _serving(paths, spec)
    for cache in (None, tmp_path / "cache"):
        for _ in range(2 if cache else 1):  # second pass reads the on-disk cache
            got, y = _pipeline_batches(paths, labels, spec, cache_dir=cache)
            assert got.dtype == np.float32 and got.shape == (10, *spec.input_shape)
            np.testing.assert_array_equal(got, expected)
            np.testing.assert_array_equal(y, labels)
    # Real pictures: not the original utils.py's all-black frames, and frames differ from one another.
    assert got.std() > (0.05 if spec.scale == "unit" else 10)
    assert len({float(img.mean()) for img in got}) == len(got)
    top = 1.0 if spec.scale == "unit" else 255.0
    assert 0.3 * top < got.max() <= top


def test_training_pipeline_shuffles_flips_and_negates_steering(data_root: Path) -> None:
    make_dataset(data_root, "d", frames=12)
    scan = datasets.scan(data_root, "d")
    paths = [s.path for s in scan.samples]
    labels = np.asarray([[s.values[0], s.values[2]] for s in scan.samples], np.float32)
    plain = _serving(paths, DEFAULT_SPEC)
    got, y = _pipeline_batches(
        paths, labels, DEFAULT_SPEC, training=True, augmentation=Augmentation(flip=1.0), steer_index=0, seed=3
    )
    assert sorted(y[:, 0].tolist()) == sorted((-labels[:, 0]).tolist())
    assert y[:, 0].tolist() != (-labels[:, 0]).tolist()  # shuffled
    for image, label in zip(got, y, strict=True):
        index = int(np.argmin(np.abs(labels[:, 0] + label[0])))
        np.testing.assert_array_equal(image, plain[index][:, ::-1])


def test_unreadable_images_are_skipped_and_recorded(data_root: Path) -> None:
    from tensorkart_trainer.pipeline import BadImage, FrameLoader, build_dataset

    make_dataset(data_root, "d", frames=6, width=160, height=120)
    folder = data_root / "samples" / "d"
    (folder / "img_2.png").write_bytes((folder / "img_2.png").read_bytes()[:100])
    paths = [s.path for s in datasets.scan(data_root, "d").samples]
    labels = np.zeros((6, 1), np.float32)
    loader = FrameLoader(DEFAULT_SPEC)
    batches = list(build_dataset(paths, labels, DEFAULT_SPEC, loader, 4, training=False))
    assert sum(len(x) for x, _ in batches) == 5
    assert list(loader.bad) == [str(folder / "img_2.png")]
    strict = FrameLoader(DEFAULT_SPEC, fail_on_bad=True)
    with pytest.raises(BadImage, match=r"img_2\.png"):
        strict(str(folder / "img_2.png").encode())


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "I;16", "JPEG"])
def test_fast_decode_gives_pillows_pixels(tmp_path: Path, mode: str) -> None:
    from tensorkart_trainer.decode import read_rgb

    rgb = np.random.default_rng(0).integers(0, 255, size=(48, 64, 3), dtype=np.uint8)
    image = Image.fromarray(rgb)
    path = tmp_path / ("f.jpg" if mode == "JPEG" else "f.png")
    if mode == "JPEG":
        image.save(path, quality=90)
    elif mode == "I;16":
        Image.fromarray(rgb[:, :, 0].astype(np.uint16) * 257).save(path)
    else:
        image.convert(mode).save(path)
    expected = np.asarray(Image.open(path).convert("RGB"))
    got = read_rgb(str(path))
    assert got.dtype == np.uint8 and got.shape == (48, 64, 3)
    np.testing.assert_array_equal(got, expected)


def _augmented(aug: Augmentation, image: np.ndarray, index: int = 0, seed: int = 5) -> tuple[np.ndarray, float]:
    from tensorkart_trainer.pipeline import augment_fn

    apply = augment_fn(aug, 0, seed, image.shape)
    pixels, label = apply(index, image, np.asarray([0.25, 1.0], np.float32))
    return pixels.numpy(), float(label.numpy()[0])


def test_photometric_augmentation_changes_colours_never_steering() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(66, 200, 3), dtype=np.uint8)
    plain = image.astype(np.float32)
    permutations = {tuple(p) for p in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))}
    seen = set()
    for index in range(12):
        shuffled, steer = _augmented(Augmentation(flip=0.0, channel_shuffle=1.0), image, index)
        order = tuple(next(c for c in range(3) if np.array_equal(shuffled[..., k], plain[..., c])) for k in range(3))
        assert order in permutations and steer == 0.25
        seen.add(order)
    assert len(seen) > 2  # not always the same palette
    grey, steer = _augmented(Augmentation(flip=0.0, grayscale=1.0), image)
    assert steer == 0.25 and np.allclose(grey[..., 0], grey[..., 1]) and np.allclose(grey[..., 1], grey[..., 2])
    strong = Augmentation(flip=0.0, brightness=0.5, contrast=0.5, hue=0.3, saturation=0.5)
    first, steer = _augmented(strong, image, 3)
    assert steer == 0.25 and first.min() >= 0.0 and first.max() <= 255.0
    assert np.abs(first - plain).mean() > 5  # the picture changed
    np.testing.assert_array_equal(first, _augmented(strong, image, 3)[0])  # seeded: same frame, same change
    assert not np.array_equal(first, _augmented(strong, image, 4)[0])  # another frame, another change
    assert Augmentation(flip=0.0, hue=0.1).enabled and not Augmentation(flip=0.0).enabled


def test_train_command_passes_the_photometric_options_to_the_job() -> None:
    from tensorkart_cli.commands.train import _params
    from tensorkart_trainer.params import JobParams

    params = _params(datasets=["d"], contrast=0.3, hue=0.1, grayscale=0.2, channel_shuffle=0.5, flip=None)
    options = _params(datasets=["d"], contrast=0.3, channel_shuffle=0.5, early_stopping_patience=0)
    job = JobParams.model_validate(options)
    assert job.augmentation.contrast == 0.3 and job.augmentation.channel_shuffle == 0.5
    assert job.augmentation.flip == 0.5 and job.early_stopping_patience == 0
    assert params["augmentation"] == {"contrast": 0.3, "hue": 0.1, "grayscale": 0.2, "channel_shuffle": 0.5}
