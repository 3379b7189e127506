"""Interpolation "pyramid" (OpenCV, the default spec): close to a true area resize of the same crop,
for any source size, crop and memory layout; and the specs stored before it keep their meaning and ids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tensorkart_core.preprocess import DEFAULT_SPEC, LEGACY_PLAY_SPEC, PreprocessSpec
from tests.core.test_preprocess import screen

# model.json "preprocess" objects as written before "pyramid" existed, with their ids then.
OLD_SPECS = [
    (  # the old DEFAULT_SPEC, and LEGACY_PLAY_SPEC (imported workshop weights)
        {
            "crop_bottom": 1.0,
            "crop_left": 0.0,
            "crop_right": 1.0,
            "crop_top": 0.0,
            "height": 66,
            "interpolation": "bilinear",
            "reducing_gap": 2.0,
            "scale": "unit",
            "width": 200,
        },
        "27f470f34363",
    ),
    (
        {
            "crop_bottom": 1.0,
            "crop_left": 0.0,
            "crop_right": 1.0,
            "crop_top": 0.25,
            "height": 66,
            "interpolation": "bilinear",
            "reducing_gap": 2.0,
            "scale": "unit",
            "width": 200,
        },
        "ec90c8a5eb34",
    ),
    (
        {
            "crop_bottom": 1.0,
            "crop_left": 0.0,
            "crop_right": 1.0,
            "crop_top": 0.4,
            "height": 66,
            "interpolation": "area",
            "reducing_gap": 2.0,
            "scale": "unit",
            "width": 200,
        },
        "f6d8f209464a",
    ),
]


def area_reference(rgb: np.ndarray, spec: PreprocessSpec) -> np.ndarray:
    """A high-quality reference: Pillow's box (area) resize of the same crop."""
    box = spec.crop_box(rgb.shape[1], rgb.shape[0])
    resized = Image.fromarray(np.ascontiguousarray(rgb)).resize(
        (spec.width, spec.height), Image.Resampling.BOX, box=box
    )
    return np.asarray(resized, np.uint8)


def assert_well_formed(out: np.ndarray, spec: PreprocessSpec) -> None:
    assert out.dtype == np.uint8 and out.shape == spec.input_shape
    assert out.flags.c_contiguous


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_default_spec_is_pyramid_and_the_legacy_spec_is_unchanged() -> None:
    assert DEFAULT_SPEC.interpolation == "pyramid" and DEFAULT_SPEC.reducing_gap is None
    assert PreprocessSpec() == DEFAULT_SPEC  # what a job without "preprocess" trains with
    assert (DEFAULT_SPEC.width, DEFAULT_SPEC.height, DEFAULT_SPEC.scale) == (200, 66, "unit")
    assert DEFAULT_SPEC.is_full_frame
    assert DEFAULT_SPEC.id == "d4e91c147a27"  # a released spec's id never changes
    assert LEGACY_PLAY_SPEC.interpolation == "bilinear" and LEGACY_PLAY_SPEC.reducing_gap == 2.0
    assert LEGACY_PLAY_SPEC.id == "27f470f34363"


@pytest.mark.parametrize(("stored", "old_id"), OLD_SPECS, ids=["old-default", "crop-bilinear", "crop-area"])
def test_specs_stored_before_pyramid_keep_their_meaning_and_id(stored: dict, old_id: str) -> None:
    spec = PreprocessSpec.model_validate(stored)
    assert spec.model_dump() == stored
    assert spec.id == old_id
    # Still Pillow, as before: the exact Pillow resize of the crop.
    rgb = screen(2)
    box = spec.crop_box(640, 480)
    filters = {"bilinear": Image.Resampling.BILINEAR, "area": Image.Resampling.BOX}
    pillow = Image.fromarray(rgb).resize((200, 66), filters[spec.interpolation], box=box, reducing_gap=2.0)
    np.testing.assert_array_equal(spec.prepare(rgb), np.asarray(pillow))


def test_reducing_gap_is_null_for_pyramid() -> None:
    """Pillow-only knob: dropped for pyramid, so specs that behave alike have one id."""
    assert PreprocessSpec(interpolation="pyramid", reducing_gap=3.0) == PreprocessSpec(interpolation="pyramid")
    assert PreprocessSpec(interpolation="pyramid").reducing_gap is None
    assert PreprocessSpec.from_json(DEFAULT_SPEC.to_json()) == DEFAULT_SPEC
    assert PreprocessSpec.model_validate({"crop_top": 0.25, "reducing_gap": 2.0}).reducing_gap is None
    # The Pillow methods keep their reducing_gap (default 2.0) as before.
    assert PreprocessSpec(interpolation="bilinear").reducing_gap == 2.0
    assert PreprocessSpec(interpolation="bicubic", reducing_gap=None).reducing_gap is None


@pytest.mark.parametrize(
    ("shape", "spec"),
    [
        ((480, 640), DEFAULT_SPEC),
        ((481, 641), DEFAULT_SPEC),
        ((97, 333), DEFAULT_SPEC),  # under 2x: one bilinear step
        ((480, 640), PreprocessSpec(crop_top=0.4, crop_bottom=0.95, crop_left=0.05)),
        ((481, 641), PreprocessSpec(crop_left=0.13, crop_top=0.27, crop_right=0.91, crop_bottom=0.83)),
        ((480, 640), PreprocessSpec(width=333, height=97)),
        ((1080, 1920), PreprocessSpec(width=64, height=48, crop_top=0.1)),
        ((480, 640), PreprocessSpec(width=100, height=200)),  # x halves 3 times more than y
    ],
)
def test_pyramid_is_close_to_an_area_resize(shape: tuple[int, int], spec: PreprocessSpec) -> None:
    rgb = np.asarray(Image.fromarray(screen(5)).resize(shape[::-1], Image.Resampling.BILINEAR))
    out = spec.prepare(rgb)
    assert_well_formed(out, spec)
    reference = area_reference(rgb, spec)
    assert mean_abs_diff(out, reference) < 3.0
    # The picture is kept: not black, not flat, same colours where the reference has them.
    assert out.std() > 20 and abs(float(out.mean()) - float(reference.mean())) < 1.0
    assert np.corrcoef(out.ravel().astype(float), reference.ravel().astype(float))[0, 1] > 0.98


def test_pyramid_on_the_default_frame_is_as_close_as_pillow_bilinear() -> None:
    rgb = screen(3)
    pyramid, reference = DEFAULT_SPEC.prepare(rgb), area_reference(rgb, DEFAULT_SPEC)
    assert mean_abs_diff(pyramid, reference) < 1.5
    sky, grass_left, road = pyramid[5, 100], pyramid[60, 5], pyramid[60, 100]
    assert sky[2] > sky[1] > sky[0] and grass_left[1] > max(grass_left[0], grass_left[2])
    assert abs(int(road[0]) - 110) < 10 and abs(int(road[1]) - 110) < 10


def test_exact_halving_is_a_box_average() -> None:
    """640x480 -> 320x120: one 2x2 box average then a row-pair average, rounded, bit for bit."""
    rgb = np.random.default_rng(0).integers(0, 256, (480, 640, 3), np.uint8)
    out = PreprocessSpec(width=320, height=120).prepare(rgb).astype(np.int32)
    wide = rgb.astype(np.int32)
    half = (wide[0::2, 0::2] + wide[1::2, 0::2] + wide[0::2, 1::2] + wide[1::2, 1::2] + 2) // 4
    np.testing.assert_array_equal(out, (half[0::2] + half[1::2] + 1) // 2)


@pytest.mark.parametrize("shape", [(50, 150), (3, 5), (1, 1), (66, 199)])
def test_sources_smaller_than_the_output_are_upscaled(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (*shape, 3), np.uint8)
    out = DEFAULT_SPEC.prepare(rgb)
    assert_well_formed(out, DEFAULT_SPEC)
    assert out.min() >= rgb.min() and out.max() <= rgb.max()
    if shape == (1, 1):
        assert (out == rgb[0, 0]).all()
    else:  # plain bilinear: close to Pillow's bilinear upscale
        pillow = np.asarray(Image.fromarray(rgb).resize((200, 66), Image.Resampling.BILINEAR))
        assert mean_abs_diff(out, pillow) < 1.0


def test_a_crop_of_exactly_the_output_size_is_copied_not_resized() -> None:
    rgb = np.random.default_rng(2).integers(0, 256, (132, 400, 3), np.uint8)
    spec = PreprocessSpec(crop_right=0.5, crop_bottom=0.5)
    out = spec.prepare(rgb)
    assert_well_formed(out, spec)
    np.testing.assert_array_equal(out, rgb[:66, :200])
    assert not np.shares_memory(out, rgb)


def _bgra() -> np.ndarray:
    alpha = np.random.default_rng(3).integers(0, 256, (480, 640, 1), np.uint8)
    return np.ascontiguousarray(np.dstack([screen(6), alpha]))


CROP_SPECS = (DEFAULT_SPEC, PreprocessSpec(crop_top=0.3, crop_left=0.1, width=120, height=40))


@pytest.mark.parametrize(
    "view",
    [
        lambda bgra: bgra[:, :, 2::-1],  # RGB out of a BGRA screen grab: negative channel stride
        lambda bgra: bgra[:, :, :3],  # RGBX: pixel stride 4
        lambda bgra: bgra[:, ::-1, :3],  # mirrored
        lambda bgra: bgra[10:470, 7:601, 1:],  # a window of a bigger buffer
    ],
    ids=["bgra-to-rgb", "rgbx", "mirrored", "window"],
)
def test_non_contiguous_views_give_what_a_contiguous_copy_gives(view) -> None:
    frame = view(_bgra())
    assert not frame.flags.c_contiguous
    for spec in CROP_SPECS:
        out = spec.prepare(frame)
        assert_well_formed(out, spec)
        np.testing.assert_array_equal(out, spec.prepare(np.ascontiguousarray(frame)))


def test_read_only_frames_decoded_from_wire_bytes() -> None:
    rgb = np.ascontiguousarray(_bgra()[:, :, :3])
    frame = np.frombuffer(rgb.tobytes(), np.uint8).reshape(rgb.shape)
    assert not frame.flags.writeable
    for spec in CROP_SPECS:
        np.testing.assert_array_equal(spec.prepare(frame), spec.prepare(rgb))


def test_full_frame_of_the_output_size_comes_back_contiguous() -> None:
    rgb = np.random.default_rng(4).integers(0, 256, (66, 400, 3), np.uint8)[:, ::2]
    out = DEFAULT_SPEC.prepare(rgb)
    assert_well_formed(out, DEFAULT_SPEC)
    np.testing.assert_array_equal(out, rgb)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    height=st.integers(1, 700),
    width=st.integers(1, 900),
    out_h=st.integers(8, 120),
    out_w=st.integers(8, 240),
    left=st.floats(0.0, 0.45),
    top=st.floats(0.0, 0.45),
    seed=st.integers(0, 2**16),
)
def test_any_size_and_crop_gives_a_well_formed_output_within_the_crops_range(
    height: int, width: int, out_h: int, out_w: int, left: float, top: float, seed: int
) -> None:
    spec = PreprocessSpec(crop_left=left, crop_top=top, crop_right=1.0, crop_bottom=1.0, width=out_w, height=out_h)
    rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)
    x0, y0, x1, y1 = spec.crop_box(width, height)
    crop = rgb[y0:y1, x0:x1]
    out = spec.prepare(rgb)
    assert_well_formed(out, spec)
    # Averages and bilinear weights are convex: nothing outside the crop's own range per channel.
    assert (out >= crop.min(axis=(0, 1))).all() and (out <= crop.max(axis=(0, 1))).all()
