"""The console's audible cue for a new high-priority alert: a short two-tone chime, made here
with the standard library (no recorded or downloaded audio). ``static/monitoring/alert-high.wav``
is this function's output; a test keeps the committed file identical. To regenerate:

    python -c "from saferprisons.monitoring.sound import write_cue; write_cue()"
"""

import io
import math
import wave
from pathlib import Path

CUE_FILE = Path(__file__).resolve().parent / "static" / "monitoring" / "alert-high.wav"
SAMPLE_RATE = 16_000
# Two rising tones, twice: distinct from a phone or a radio, and short (IEC 60601-1-8's high
# priority signal is a burst of pulses; this is a simplified burst, not the standard's melody).
TONES = ((880.0, 0.12), (0.0, 0.04), (1175.0, 0.12), (0.0, 0.10)) * 2
VOLUME = 0.6
FADE_SECONDS = 0.01


def cue_wav() -> bytes:
    """16-bit mono PCM WAV bytes (deterministic: no timestamps or metadata)."""
    frames = bytearray()
    for frequency, seconds in TONES:
        count = round(SAMPLE_RATE * seconds)
        fade = max(1, round(SAMPLE_RATE * FADE_SECONDS))
        for i in range(count):
            if frequency == 0.0:
                sample = 0.0
            else:
                envelope = min(1.0, i / fade, (count - 1 - i) / fade)
                sample = VOLUME * envelope * math.sin(2 * math.pi * frequency * i / SAMPLE_RATE)
            frames += int(round(sample * 32767)).to_bytes(2, "little", signed=True)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def write_cue(path: Path = CUE_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cue_wav())
    return path
