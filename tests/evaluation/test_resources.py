"""Usage: wall time and the peak resident memory of a block."""

import numpy as np

from tokensep_core.evaluation.resources import Usage


def test_peak_memory_sees_a_temporary_allocation() -> None:
    with Usage() as small:
        np.ones(1000)
    with Usage() as large:
        block = np.ones(25_000_000)  # 200 MB, touched, then freed
        del block
    assert large.peak_rss_mib > small.peak_rss_mib + 150
    assert large.seconds > 0
