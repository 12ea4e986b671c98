"""Sound events from PCM: a streaming front end and a classifier, one ``RoomAudio`` per room.

PCM lives only in the bounded buffer of a ``RoomAudio`` and is dropped as soon as a whole second
has been classified.
"""

from hub.sensing.audio.classes import CLASSES, SAMPLE_RATE
from hub.sensing.audio.classifier import TFLiteClassifier, load_default_classifier
from hub.sensing.audio.stream import Classifier, EnergyClassifier, RoomAudio, SoundSecond

__all__ = [
    "CLASSES",
    "SAMPLE_RATE",
    "Classifier",
    "EnergyClassifier",
    "RoomAudio",
    "SoundSecond",
    "TFLiteClassifier",
    "load_default_classifier",
]
