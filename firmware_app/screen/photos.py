"""The confirmation screen's two pictures, as JPEG: the card photo of the person being confirmed and the camera's view."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from firmware_app.flow.states import AwaitingConfirmation, State
from hal.camera import Camera, Frame

SHOWN_WIDTH = 480
"""Pixels across of a picture as sent: the page shows each at about half the screen's width."""
JPEG_QUALITY = 80
CARD_PHOTO_MAX = 64 * 1024
"""A chip's photo is 10-20 KB; anything larger is not shown (the face check refuses it on its own terms)."""


def card_photo(state: State) -> bytes | None:
    """The photo of the document being confirmed, decoded and encoded afresh (so the browser is never handed the
    chip's bytes as they came), or None when this state has no photo to show."""
    if not isinstance(state, AwaitingConfirmation):
        return None
    photo = state.document.photo
    if not photo or len(photo) > CARD_PHOTO_MAX:
        return None
    image = cv2.imdecode(np.frombuffer(photo, dtype=np.uint8), cv2.IMREAD_COLOR)
    return None if image is None else _jpeg(image)


class LiveView:
    """The camera's newest frame as JPEG, encoded at most once per frame whatever the number of requests."""

    def __init__(self, camera: Camera) -> None:
        self._camera = camera
        self._lock = threading.Lock()
        self._number = -1
        self._jpeg: bytes | None = None

    def jpeg(self) -> bytes | None:
        """None when the camera has no frame to give (the page then says why from the status bar)."""
        frame = self._camera.latest_frame()
        if not isinstance(frame, Frame):
            return None
        with self._lock:
            if frame.number != self._number:
                self._number, self._jpeg = frame.number, _jpeg(frame.pixels)
            return self._jpeg


def _jpeg(image: np.ndarray) -> bytes | None:
    height, width = image.shape[:2]
    if width > SHOWN_WIDTH:
        image = cv2.resize(image, (SHOWN_WIDTH, max(1, height * SHOWN_WIDTH // width)), interpolation=cv2.INTER_AREA)
    encoded, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return bytes(buffer) if encoded else None
