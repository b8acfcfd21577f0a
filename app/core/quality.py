"""Call quality: a MOS estimated with the E-model (ITU-T G.107, simplified) from RTCP figures.

The engine samples each call's RTP statistics every few seconds and reports a frozen
`QualityReport` for the interval just gone; `summarise` turns a call's reports into the
figures stored with it in history. All pure.

The simplification (the one widely used for VoIP monitoring, after Cole & Rosenbluth,
"Voice over IP performance monitoring", ACM CCR 2001, which fits G.107 with default
values for everything that is not measured):

    R = 93.2 - Id - Ie_eff
    Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)        one-way delay d in ms
    Ie_eff = Ie + (95 - Ie) Ppl / (Ppl + Bpl)           G.107 (7-29), random loss
    MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)       G.107 Annex B, for 0 < R < 100

Jitter is folded into the delay as the jitter buffer's cost (two jitters) plus the
codec's framing (10 ms): d = RTT / 2 + 2 jitter + 10. Ie and Bpl per codec: see CODECS.
G.107 is narrowband, and G.722 is rated like G.711, so a wideband call scores no higher
than 4.4 here, which keeps the badge comparable across codecs.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

R_DEFAULT = 93.2  # G.107 R with every default parameter: no delay, no loss, G.711
CODEC_FRAMING_MS = 10.0


@dataclass(frozen=True)
class CodecImpairment:
    ie: float  # equipment impairment factor
    bpl: float  # packet-loss robustness factor


# G.711 with PLC and G.729A from G.113 Appendix I (pjmedia conceals lost packets for
# every codec it has); G.722 on the narrowband scale like G.711. GSM-FR's Ie is G.113's,
# its Bpl and iLBC's two values are guesses from published measurements, and so is
# UNKNOWN_CODEC (speex, opus): the badge is an estimate, not a measurement.
CODECS: dict[str, CodecImpairment] = {
    "pcmu": CodecImpairment(0.0, 25.1),
    "pcma": CodecImpairment(0.0, 25.1),
    "g722": CodecImpairment(0.0, 25.1),
    "g729": CodecImpairment(11.0, 19.0),
    "gsm": CodecImpairment(20.0, 10.0),
    "ilbc": CodecImpairment(11.0, 32.0),
}
UNKNOWN_CODEC = CodecImpairment(10.0, 20.0)


def codec_impairment(codec: str) -> CodecImpairment:
    """By name as pjsua2 writes it ("PCMA/8000/1", "G722"): the part before the first /."""
    return CODECS.get(codec.split("/", 1)[0].strip().lower(), UNKNOWN_CODEC)


def delay_impairment(delay_ms: float) -> float:
    """Id for a one-way mouth-to-ear delay."""
    d = max(0.0, delay_ms)
    return 0.024 * d + (0.11 * (d - 177.3) if d > 177.3 else 0.0)


def loss_impairment(loss_percent: float, codec: CodecImpairment) -> float:
    """Ie_eff for random packet loss (BurstR = 1)."""
    ppl = min(100.0, max(0.0, loss_percent))
    return codec.ie + (95.0 - codec.ie) * ppl / (ppl + codec.bpl)


def effective_delay(rtt_ms: float, jitter_ms: float) -> float:
    return max(0.0, rtt_ms) / 2 + 2 * max(0.0, jitter_ms) + CODEC_FRAMING_MS


def r_factor(*, rtt_ms: float, jitter_ms: float, loss_percent: float,
             codec: CodecImpairment) -> float:
    return R_DEFAULT - delay_impairment(effective_delay(rtt_ms, jitter_ms)) \
        - loss_impairment(loss_percent, codec)


def mos_from_r(r: float) -> float:
    """G.107 Annex B: the estimated MOS (conversational quality) for a rating R."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)


def estimate_mos(*, rtt_ms: float, jitter_ms: float, loss_percent: float,
                 codec: str) -> tuple[float, float]:
    """(MOS, R) for one measurement."""
    r = r_factor(rtt_ms=rtt_ms, jitter_ms=jitter_ms, loss_percent=loss_percent,
                 codec=codec_impairment(codec))
    return mos_from_r(r), r


def loss_percent(lost: int, received: int) -> float:
    """Share of packets lost in an interval (sequence gaps counted by the receiver)."""
    expected = max(0, lost) + max(0, received)
    return 100.0 * max(0, lost) / expected if expected else 0.0


class Grade(enum.Enum):
    """What the badge says; limits as in G.107 Table B.1's user satisfaction bands."""

    GOOD = "good"  # R >= 80: satisfied
    FAIR = "fair"  # R >= 60: some users dissatisfied
    POOR = "poor"  # below: many dissatisfied


def grade(mos: float) -> Grade:
    if mos >= 4.03:  # R 80
        return Grade.GOOD
    if mos >= 3.1:  # R 60
        return Grade.FAIR
    return Grade.POOR


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class QualityReport:
    """One interval of a call's audio as we received it, and what the E-model makes of it."""

    handle: int
    mos: float
    r: float
    loss_percent: float  # received packets lost in this interval
    jitter_ms: float  # receive jitter (RTCP interarrival jitter, last value)
    rtt_ms: float  # round trip from RTCP (0 until the first report exchange)
    codec: str
    rx_packets: int  # in this interval
    lost_packets: int  # in this interval
    tx_loss_percent: float = 0.0  # what the far end reports losing of ours (RTCP RR)
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class QualitySummary:
    """The figures kept with a finished call."""

    mos_avg: float
    mos_min: float
    loss_percent: float  # over the whole call
    jitter_ms_max: float
    rtt_ms_avg: float
    codec: str
    reports: int


def summarise(reports: Sequence[QualityReport]) -> QualitySummary | None:
    """A call's reports → its summary (None for a call that never had audio)."""
    if not reports:
        return None
    lost = sum(r.lost_packets for r in reports)
    received = sum(r.rx_packets for r in reports)
    with_rtt = [r.rtt_ms for r in reports if r.rtt_ms > 0]
    return QualitySummary(
        mos_avg=round(sum(r.mos for r in reports) / len(reports), 2),
        mos_min=round(min(r.mos for r in reports), 2),
        loss_percent=round(loss_percent(lost, received), 2),
        jitter_ms_max=round(max(r.jitter_ms for r in reports), 1),
        rtt_ms_avg=round(sum(with_rtt) / len(with_rtt), 1) if with_rtt else 0.0,
        codec=reports[-1].codec,
        reports=len(reports),
    )


__all__ = ["CODECS", "CodecImpairment", "Grade", "QualityReport", "QualitySummary",
           "codec_impairment", "delay_impairment", "effective_delay", "estimate_mos",
           "grade", "loss_impairment", "loss_percent", "mos_from_r", "r_factor",
           "summarise"]
