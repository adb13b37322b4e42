"""Photos of real faces for the real-model tests: from package wheels, and a built group photo.

Two packages ship well-known photos of people that are not test dependencies here:
mahotas' demo photo `luispedro.jpg` (its author) and ultralytics' `bus.jpg` and
`zidane.jpg`. `wheel_photo` fetches the pinned wheel with `pip download` into a cache folder
once and reads the photo straight out of it (a wheel is a zip file); without the registry it
skips the test and says why. Each photo's sha256 is pinned: the tests' hand-placed face
positions hold for these exact files.

`group_photo` builds a group photo from real faces (crops of astronaut's and luispedro's),
so the test knows exactly where every face is.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps


@dataclass(frozen=True)
class WheelPhoto:
    requirement: str  # name==version
    member: str  # the photo's path inside the wheel
    sha256: str
    # pip download options. mahotas' wheels are per platform; the photo is the same in all
    # of them, so one wheel is pinned and the download is the same file on any machine.
    pip_options: tuple[str, ...] = ()


MAHOTAS_WHEEL = (
    "--platform",
    "manylinux_2_28_x86_64",
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
)
WHEEL_PHOTOS = {
    "luispedro": WheelPhoto(
        "mahotas==1.4.19",
        "mahotas/demos/data/luispedro.jpg",
        "27e7af47501a4e9a06e4d8bd8b834bd773fe7b187baef2f47e120c663524bed1",
        MAHOTAS_WHEEL,
    ),
    "bus": WheelPhoto(
        "ultralytics==8.4.190",
        "ultralytics/assets/bus.jpg",
        "c02019c4979c191eb739ddd944445ef408dad5679acab6fd520ef9d434bfbc63",
    ),
    "zidane": WheelPhoto(
        "ultralytics==8.4.190",
        "ultralytics/assets/zidane.jpg",
        "16d73869e3267a7d4ed00de8e860833bd1657c1b252e94c0c348277adc7b6edb",
    ),
}


def cached_wheel(requirement: str, cache: Path) -> Path | None:
    name, _, version = requirement.partition("==")
    found = sorted(cache.glob(f"{name}-{version}-*.whl"))
    found += sorted(cache.glob(f"{name}-{version}.tar.gz"))  # an sdist (--no-binary)
    return found[0] if found else None


def fetch_wheel(requirement: str, cache: Path, pip_options: tuple[str, ...] = ()) -> Path:
    """The requirement's wheel in `cache` (or its sdist, with pip_options asking for one),
    downloaded once; skips the test when pip cannot."""
    wheel = cached_wheel(requirement, cache)
    if wheel is not None:
        return wheel
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        requirement,
        "--no-deps",
        *(() if "--no-binary=:all:" in pip_options else ("--only-binary=:all:",)),
        "--dest",
        str(cache),
        "--disable-pip-version-check",
        "--quiet",
        "--timeout",
        "15",
        "--retries",
        "1",
        *pip_options,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip(f"`pip download {requirement}` timed out: no access to the package registry?")
    wheel = cached_wheel(requirement, cache)
    if result.returncode != 0 or wheel is None:
        errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
        why = errors[-1].strip() if errors else (result.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(
            f"needs the package registry: `pip download {requirement}` failed"
            f" (exit {result.returncode}): {why}"
        )
    return wheel


def wheel_photo(name: str, cache: Path, folder: Path) -> Path:
    """WHEEL_PHOTOS[name] read out of its wheel and saved in `folder` (the wheel is cached)."""
    photo = WHEEL_PHOTOS[name]
    wheel = fetch_wheel(photo.requirement, cache, photo.pip_options)
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(photo.member)
    digest = hashlib.sha256(data).hexdigest()
    assert digest == photo.sha256, f"{photo.member} in {wheel.name} is not the expected file"
    path = folder / Path(photo.member).name
    path.write_bytes(data)
    return path


# ---- the group photo ---------------------------------------------------------------------
# Tight crops (forehead to chin, cheek to cheek) of the one face in each photo, in its own
# pixels: astronaut is 512x512, luispedro.jpg 300x377.
FACE_CROPS = {"astronaut": (178, 50, 272, 185), "luispedro": (45, 60, 255, 345)}
# Rows from the back (small faces) to the front (large): face height in pixels, faces.
GROUP_ROWS = ((72, 11), (96, 8), (120, 7), (140, 6))
GROUP_SIZE = (640, 480)  # the model's input size: the photo's pixels are the input's


def group_photo(faces: list[Image.Image], seed: int) -> tuple[Image.Image, list[tuple]]:
    """A 640x480 group photo of rows of `faces` (tight crops, used in turn); returns it and
    each planted face's box (x1, y1, x2, y2), in rows from the top.

    Neighbours are 1 to 4 pixels apart, rows 2 to 4; each face is mirrored or not and each
    row shifted sideways at random (numpy's generator with `seed`), on a smooth backdrop.
    """
    rng = np.random.default_rng(seed)
    width, height = GROUP_SIZE
    # A studio backdrop: a smooth gray gradient, darker at the bottom. (Blurred noise gave
    # the model a false face at the photo's edge in 3 of 40 layouts, scores 0.56 to 0.62.)
    shade = np.linspace(170, 90, height)[:, None, None] * np.array([1.0, 1.0, 1.05])
    backdrop = np.broadcast_to(shade, (height, width, 3)).clip(0, 255).astype(np.uint8)
    canvas = Image.fromarray(backdrop)
    boxes = []
    top = int(rng.integers(2, 5))
    turn = 0
    for face_height, count in GROUP_ROWS:
        row = []
        for _ in range(count):
            face = faces[turn % len(faces)]
            turn += 1
            if rng.random() < 0.5:
                face = ImageOps.mirror(face)
            size = (round(face.width * face_height / face.height), face_height)
            row.append(face.resize(size, Image.Resampling.LANCZOS))
        gaps = rng.integers(1, 5, size=count - 1)
        room = width - sum(face.width for face in row) - int(gaps.sum())
        assert room >= 0, "the row does not fit"
        left = int(rng.integers(0, room + 1))
        for number, face in enumerate(row):
            canvas.paste(face, (left, top))
            boxes.append((left, top, left + face.width, top + face_height))
            if number < len(gaps):
                left += face.width + int(gaps[number])
        top += face_height + int(rng.integers(2, 5))
    assert top <= height, "the rows do not fit"
    return canvas, boxes


def face_crop(name: str, photo: Image.Image) -> Image.Image:
    return photo.convert("RGB").crop(FACE_CROPS[name])
