"""Headcount: how many people each sample shows, from the person detector.

This is the foundation's people check; seats, tracking and the people findings build on the
``persons`` column and the boxes kept here.
"""

from __future__ import annotations

from typing import Any

from .analyze import CameraContext, Draft
from .sampler import Sample


class HeadcountCheck:
    """Counts detected people per sample into the ``persons`` column.

    Parameters:
        context: the camera the footage comes from.
        detector: anything with ``detect(image_bgr) -> Detections``; defaults to the bundled
            SSDLite model, created lazily so the check can be pickled to worker processes.
    """

    name = "headcount"

    def __init__(self, context: CameraContext, detector: Any | None = None):
        self.context = context
        self.detector = detector

    def _detector(self):
        if self.detector is None:
            from .detector import OnnxPersonDetector

            self.detector = OnnxPersonDetector()
        return self.detector

    def observe(self, sample: Sample, row: dict[str, Any]) -> None:
        dets = self._detector().detect(sample.image)
        row["persons"] = len(dets)

    def finish(self, rows: list[dict[str, Any]]) -> list[Draft]:
        return []
