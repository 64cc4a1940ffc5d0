"""One torch thread: on the shared 2-core machine, intra-op threads contend and tiny steps run ~5x slower."""
import pytest


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
