"""Test-wide settings. Qt must run headless: set the platform before any Qt import."""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    # The offscreen screen is 800x800 unless told otherwise: give the window tests the
    # laptop screen the app is laid out for (the window fits whatever screen it opens on).
    os.environ["QT_QPA_PLATFORM"] = ("offscreen:configfile="
                                     + str(Path(__file__).parent / "fixtures" / "laptop-screen.json"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pytest  # noqa: E402
import torch  # noqa: E402

from engine import threads  # noqa: E402

# Two cores: keep torch from oversubscribing when pytest and Qt threads share them.
torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _no_thread_policy_left_behind():
    """A test that opens the window installs the window's thread policy for the process;
    the next test gets the library's default back (runs keep the threads they are given),
    so seeded runs compared bit for bit use one thread count."""
    count = torch.get_num_threads()
    yield
    if threads.installed() is not None:
        threads.uninstall()
        torch.set_num_threads(count)


# One torch thread for a test module (or a test): the tiny models of most tests gain
# nothing from two, and on a shared 2-core machine two threads waiting on each other make
# every op many times slower. A module asks with
# ``pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")``.
@pytest.fixture(scope="module")
def one_torch_thread_per_module():
    from tests.engine.session_support import single_torch_thread
    with single_torch_thread():
        yield


@pytest.fixture
def one_torch_thread():
    from tests.engine.session_support import single_torch_thread
    with single_torch_thread():
        yield
