"""EmoSmooth's application layer: the command line (`emosmooth`, `python -m app`) and the Python API."""

from app.api import StreamedFrame, analyze, smooth, stream
from app.errors import AppError

__all__ = ["AppError", "StreamedFrame", "analyze", "smooth", "stream"]
