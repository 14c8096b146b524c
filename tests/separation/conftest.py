"""Fixtures shared by the separation tests."""

import pytest
import torch


@pytest.fixture
def single_thread():
    """Tiny networks run faster on one thread, and far faster when other jobs share the CPU
    (use with ``pytestmark = pytest.mark.usefixtures("single_thread")``)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
