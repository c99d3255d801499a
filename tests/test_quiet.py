"""lstmkit.quiet: other libraries' chatter silenced inside the block, everything restored after it."""

import logging
import warnings

import pytest

from lstmkit.quiet import quiet


def test_quiet_silences_inside_and_restores_levels_and_filters_even_after_an_error():
    logger = logging.getLogger("lstmkit-test-chatter")
    logger.setLevel(logging.DEBUG)
    filters = list(warnings.filters)
    with pytest.raises(RuntimeError), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet(["lstmkit-test-chatter"], ["chatter .*"]):
            assert not logger.isEnabledFor(logging.INFO)
            warnings.warn("chatter about workers", stacklevel=1)
            warnings.warn("something that matters", stacklevel=1)
            raise RuntimeError("the block fails")
    assert [str(w.message) for w in caught] == ["something that matters"]
    assert logger.level == logging.DEBUG
    assert warnings.filters == filters
