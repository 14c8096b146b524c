"""A token row's verdict is judged only on the metrics its ceiling (the codec oracle of the same
codec checkpoint) beats its own mismatched control on; other rows keep every metric."""

import math

from tokensep_core.bench.summary import RowSummary, judge_by_ceilings
from tokensep_core.evaluation.controls import DOES_NOT_USE, USES, StemVerdict
from tokensep_core.evaluation.stats import Estimate

PASS = Estimate(0.5, 0.2, 0.8, 8)
FAIL = Estimate(0.1, -0.3, 0.4, 8)


def _verdict(**by_metric: Estimate) -> StemVerdict:
    return StemVerdict(dict(by_metric), songs=8)


def _token_row(name: str, codec: str, verdict: StemVerdict, mixture_consistency: str = "off") -> RowSummary:
    config = {"training": {"model": {"codec_checkpoint": codec}}}
    row = RowSummary(name, "generative", "ok", None, config)
    row.verdicts = {"drums": verdict}
    row.mixture_consistency = mixture_consistency
    return row


def _codec_oracle(name: str, codec: str, verdict: StemVerdict, **params: str) -> RowSummary:
    config = {"separator": {"name": "codec_oracle", "params": {"checkpoint": codec, **params}}}
    row = RowSummary(name, "separator", "ok", None, config)
    row.verdicts = {"drums": verdict}
    return row


def test_a_metric_the_ceiling_fails_is_not_judged() -> None:
    row = _token_row("base", "{codec:a}", _verdict(mel_distance=PASS, si_sdr=FAIL))
    ceiling = _codec_oracle("codec_oracle_a", "{codec:a}", _verdict(mel_distance=PASS, si_sdr=FAIL))
    judge_by_ceilings([row, ceiling])
    verdict = row.verdicts["drums"]
    assert verdict.uses_mixture is True and verdict.not_judged == ("si_sdr",)
    assert verdict.text == f"{USES}; not judged: si_sdr (codec_oracle_a does not beat its control there)"
    # the ceiling itself keeps every metric
    assert ceiling.verdicts["drums"].text == f"{DOES_NOT_USE} (si_sdr)"


def test_a_judged_metric_still_fails_the_row() -> None:
    row = _token_row("base", "{codec:a}", _verdict(mel_distance=FAIL, si_sdr=PASS))
    judge_by_ceilings([row, _codec_oracle("oracle_a", "{codec:a}", _verdict(mel_distance=PASS, si_sdr=FAIL))])
    assert row.verdicts["drums"].uses_mixture is False and row.verdicts["drums"].failing == ["mel_distance"]


def test_another_codecs_oracle_is_not_a_ceiling() -> None:
    row = _token_row("base", "{codec:a}", _verdict(mel_distance=PASS, si_sdr=FAIL))
    judge_by_ceilings([row, _codec_oracle("oracle_b", "{codec:b}", _verdict(mel_distance=PASS, si_sdr=FAIL))])
    assert row.verdicts["drums"].uses_mixture is False and row.verdicts["drums"].ceiling is None


def test_a_row_built_from_the_mixture_is_not_bounded_by_the_codec_oracle() -> None:
    for method in ("mask", "decoder", None):  # None: results that do not say
        row = _token_row("masked", "{codec:a}", _verdict(mel_distance=PASS, si_sdr=FAIL), mixture_consistency=method)
        judge_by_ceilings([row, _codec_oracle("oracle_a", "{codec:a}", _verdict(mel_distance=PASS, si_sdr=FAIL))])
        assert row.verdicts["drums"].failing == ["si_sdr"] and row.verdicts["drums"].ceiling is None, method


def test_a_ceiling_that_passes_nothing_leaves_no_verdict() -> None:
    row = _token_row("base", "{codec:a}", _verdict(mel_distance=PASS))
    judge_by_ceilings([row, _codec_oracle("oracle_a", "{codec:a}", _verdict(mel_distance=FAIL))])
    verdict = row.verdicts["drums"]
    assert verdict.uses_mixture is None and verdict.text == "not computed: its ceiling, oracle_a, beats its control on no metric"


def test_rows_that_are_not_token_rows_keep_every_metric() -> None:
    htdemucs = RowSummary("htdemucs", "separator", "ok", None, {"separator": {"name": "htdemucs"}})
    htdemucs.verdicts = {"drums": _verdict(mel_distance=PASS, si_sdr=FAIL)}
    judge_by_ceilings([htdemucs, _codec_oracle("oracle_a", "{codec:a}", _verdict(mel_distance=PASS, si_sdr=FAIL))])
    assert htdemucs.verdicts["drums"].failing == ["si_sdr"] and not math.isnan(htdemucs.verdicts["drums"].differences["si_sdr"].low)


def test_a_decoder_oracle_is_not_a_ceiling() -> None:
    """A codec oracle whose coded stems split the mixture (the decoder oracle) is not bounded by
    the codec, so it bounds no token row and keeps every metric itself."""
    row = _token_row("base", "{codec:a}", _verdict(mel_distance=PASS, si_sdr=FAIL))
    fitted = _codec_oracle("decoder_oracle", "{codec:a}", _verdict(mel_distance=PASS, si_sdr=FAIL), mixture_consistency="mask")
    judge_by_ceilings([row, fitted])
    assert row.verdicts["drums"].ceiling is None and row.verdicts["drums"].failing == ["si_sdr"]
