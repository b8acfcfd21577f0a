"""The E-model (ITU-T G.107, simplified) against known values, and the per-call summary."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.core.quality import (
    CODECS,
    Grade,
    QualityReport,
    codec_impairment,
    delay_impairment,
    effective_delay,
    estimate_mos,
    grade,
    loss_impairment,
    loss_percent,
    mos_from_r,
    r_factor,
    summarise,
)

G711 = CODECS["pcma"]


@pytest.mark.parametrize(("r", "mos"), [
    # G.107 Annex B, Figure B.1 / Table B.1 (the user satisfaction band edges).
    (93.2, 4.41), (90, 4.34), (80, 4.03), (70, 3.60), (60, 3.10), (50, 2.58),
])
def test_mos_from_r_matches_g107(r: float, mos: float) -> None:
    assert mos_from_r(r) == pytest.approx(mos, abs=0.01)


def test_mos_is_clamped_outside_0_to_100() -> None:
    assert mos_from_r(-5) == 1.0
    assert mos_from_r(0) == 1.0
    assert mos_from_r(100) == 4.5
    assert mos_from_r(120) == 4.5


def test_delay_costs_little_below_the_177_ms_knee_and_much_above() -> None:
    assert delay_impairment(0) == 0
    assert delay_impairment(100) == pytest.approx(2.4)
    assert delay_impairment(177.3) == pytest.approx(4.2552)
    assert delay_impairment(200) == pytest.approx(0.024 * 200 + 0.11 * 22.7)
    assert delay_impairment(400) == pytest.approx(9.6 + 0.11 * 222.7)


def test_loss_impairment_of_g711_with_plc() -> None:
    assert loss_impairment(0, G711) == 0
    assert loss_impairment(10, G711) == pytest.approx(95 * 10 / 35.1)  # 27.07
    assert loss_impairment(100, G711) == pytest.approx(95 * 100 / 125.1)
    assert loss_impairment(150, G711) == loss_impairment(100, G711)  # clamped


def test_jitter_is_folded_into_delay() -> None:
    assert effective_delay(rtt_ms=0, jitter_ms=0) == 10
    assert effective_delay(rtt_ms=100, jitter_ms=20) == 50 + 40 + 10
    assert effective_delay(rtt_ms=-1, jitter_ms=-1) == 10  # no RTCP yet reads as 0


def test_a_clean_lan_call_is_about_4_4_and_ten_percent_loss_is_about_3_4() -> None:
    clean, r_clean = estimate_mos(rtt_ms=0, jitter_ms=0, loss_percent=0, codec="PCMA/8000/1")
    assert r_clean == pytest.approx(93.2 - 0.24)
    assert clean == pytest.approx(4.40, abs=0.01)
    lossy, r_lossy = estimate_mos(rtt_ms=0, jitter_ms=0, loss_percent=10, codec="PCMU")
    assert r_lossy == pytest.approx(93.2 - 0.24 - 27.07, abs=0.01)
    assert lossy == pytest.approx(3.40, abs=0.01)
    assert grade(clean) is Grade.GOOD and grade(lossy) is Grade.FAIR


def test_a_long_satellite_hop_with_loss_is_poor() -> None:
    mos, r = estimate_mos(rtt_ms=600, jitter_ms=30, loss_percent=5, codec="G722")
    assert r == pytest.approx(r_factor(rtt_ms=600, jitter_ms=30, loss_percent=5, codec=G711))
    assert grade(mos) is Grade.POOR


def test_codecs_by_pjsua_name_and_unknown_ones_get_the_guess() -> None:
    assert codec_impairment("G722/16000/1") == CODECS["g722"]
    assert codec_impairment("speex/16000") == codec_impairment("opus")
    assert codec_impairment("opus").ie > 0


def test_loss_percent_of_an_interval() -> None:
    assert loss_percent(10, 90) == 10.0
    assert loss_percent(0, 0) == 0.0
    assert loss_percent(-3, 50) == 0.0  # a duplicate-heavy interval never goes negative


def report(mos: float, *, rx: int = 250, lost: int = 0, jitter: float = 1.0,
           rtt: float = 0.0) -> QualityReport:
    return QualityReport(1, mos, 0.0, loss_percent(lost, rx), jitter, rtt, "PCMA/8000/1",
                         rx, lost, at=datetime(2026, 11, 24, tzinfo=timezone.utc))


def test_the_summary_averages_the_scores_and_counts_loss_over_the_whole_call() -> None:
    summary = summarise([report(4.4), report(3.4, rx=225, lost=25, jitter=6.0, rtt=20),
                         report(4.4, rtt=30)])
    assert summary is not None
    assert summary.mos_avg == 4.07 and summary.mos_min == 3.4
    assert summary.loss_percent == pytest.approx(100 * 25 / 750, abs=0.01)
    assert summary.jitter_ms_max == 6.0 and summary.rtt_ms_avg == 25.0
    assert summary.codec == "PCMA/8000/1" and summary.reports == 3
    assert summarise([]) is None
