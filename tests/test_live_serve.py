"""--serve: the MJPEG stream read by real HTTP clients (the standard library's), each part
decoded as a JPEG; a frame is encoded once for every client, and only while someone
watches."""

from __future__ import annotations

import http.client
import io
import os
import re
import signal
import socket
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from tests.conftest import assert_one_line_error
from tests.live_support import (
    FACES,
    green_pixels,
    load_script,
    photo_arrays,
    run_script,
    save_photos,
    start_script,
    wait_for,
)


def read_parts(response: http.client.HTTPResponse, count: int, into: list | None = None):
    """`count` parts of a multipart/x-mixed-replace body, each read by its Content-Length
    (appended to `into` as they arrive)."""
    boundary = re.search(r"boundary=(\S+)", response.getheader("Content-Type"))[1].encode()
    parts = [] if into is None else into
    while len(parts) < count:
        line = response.readline()
        if not line:
            break
        if line.strip() != b"--" + boundary:
            continue
        headers = {}
        while header := response.readline().strip():
            name, _, value = header.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        assert headers["content-type"] == "image/jpeg"
        parts.append(response.read(int(headers["content-length"])))
    return parts


def test_serve_end_to_end(fake_gst, tmp_path):
    """The script on a camera with --serve: the page shows the stream, and each part of
    the stream is a JPEG of a drawn frame (the faces' green boxes); Ctrl-C then stops it
    cleanly."""
    save_photos(tmp_path / "photos", photo_arrays((640, 480)))
    fake_gst.set(fps=30, photos=tmp_path / "photos")
    stderr = tmp_path / "stderr.txt"
    with open(tmp_path / "stdout.txt", "w") as out, open(stderr, "w") as err:
        process = start_script(
            FACES, "--source", "camera:0", "--serve", "0", stdout=out, stderr=err
        )
        try:
            wait_for(lambda: re.search(r"on port (\d+)", stderr.read_text()))
            port = int(re.search(r"on port (\d+)", stderr.read_text())[1])
            page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read().decode()
            assert '<img src="/stream.mjpg"' in page and "face_det_lite_sample.tflite" in page
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/stream.mjpg")
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Content-Type").startswith("multipart/x-mixed-replace")
            parts = read_parts(response, 5)
            connection.close()
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing", timeout=30)
            assert missing.value.code == 404
            os.killpg(process.pid, signal.SIGINT)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert len(parts) == 5 and len(set(parts)) >= 3  # a moving picture
    for part in parts:
        image = Image.open(io.BytesIO(part))
        assert image.format == "JPEG" and image.size == (640, 480)
        assert green_pixels(np.asarray(image)) > 100  # boxes drawn
    assert "stopped by Ctrl-C" in stderr.read_text()


def test_frames_are_encoded_once_not_per_client():
    """Nothing is encoded while nobody watches; then each frame is encoded once, and both
    clients get the same JPEGs: the frame current when they came, then each new one."""
    script = load_script(FACES)
    server = script.MjpegServer(0, "test", host="127.0.0.1")
    try:
        for shade in range(3):
            server.publish(Image.new("RGB", (64, 48), (shade, 0, 0)))
        time.sleep(0.3)  # time the encoder would have taken
        assert server.encoded == 0
        received: list[list[bytes]] = [[], []]

        def watch(parts: list[bytes]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            connection.request("GET", "/stream.mjpg")
            read_parts(connection.getresponse(), 6, into=parts)
            connection.close()

        watchers = [threading.Thread(target=watch, args=(parts,)) for parts in received]
        for watcher in watchers:
            watcher.start()
        wait_for(lambda: server.clients == 2 and all(len(p) == 1 for p in received))
        for shade in range(1, 6):
            server.publish(Image.new("RGB", (64, 48), (0, 50 * shade, 0)))
            wait_for(lambda shade=shade: all(len(p) == shade + 1 for p in received))
        for watcher in watchers:
            watcher.join(timeout=30)
        assert server.encoded == 6
        assert received[0] == received[1]
        shades = [
            np.asarray(Image.open(io.BytesIO(p)))[:, :, :2].mean(axis=(0, 1)) for p in received[0]
        ]
        assert np.allclose(shades, [(2, 0), *[(0, 50 * s) for s in range(1, 6)]], atol=3)
    finally:
        server.close()


def test_a_busy_port_is_one_line(photos):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = run_script(FACES, "--source", str(photos["coins"]), "--serve", str(port))
    assert_one_line_error(ran, f"--serve {port}", "cannot listen")
