"""Labels built from text with ``<`` or ``&`` show all of it (issue 21 item 6): pyqtgraph's
labels and rich-text QLabels read markup, menus read ``&`` as a shortcut."""

from __future__ import annotations

import pytest

from tests.engine.session_support import record_run, single_torch_thread, tiny_config
from tests.gui.markup_checks import cut_plot_labels, shown_label_texts

ODD = "v&a<b &c"     # a file name a user may choose ("vae & gan.h5"); "<b" starts a tag


@pytest.fixture(scope="module")
def odd_sessions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("markup")
    with single_torch_thread():
        record_run(folder / f"{ODD}.h5", tiny_config("vae-2d", epochs=2))
        record_run(folder / "plain.h5", tiny_config("vae-2d", epochs=2, seed=3))
    return folder


def test_every_plot_label_of_the_main_window_shows_its_whole_text(qtbot, window):
    from tests.gui.conftest import tiny_config as gui_tiny, train_and_wait
    train_and_wait(qtbot, window, gui_tiny())
    window.code_views.flush(everything=True)      # every view drawn, not only those shown
    zero_axis = window.code_views.panels["activation_histogram"].zero_plot \
        .getPlotItem().getAxis("bottom")
    assert "|h| < 0.01" in zero_axis.label.toPlainText()
    assert cut_plot_labels(window) == []


def test_a_session_named_with_markup_characters(qtbot, window, odd_sessions):
    from gui.windows.compare_window import open_comparison
    path = odd_sessions / f"{ODD}.h5"
    assert window.open_session(path)
    assert cut_plot_labels(window) == []
    window.show_message(f"Session: {path}", "info")
    assert ODD in window.banner.label.text() and ODD in " ".join(shown_label_texts(window))
    # The recent list: "&" is no shortcut marker there.
    action = window.menus.recent_menu.actions()[0]
    assert action.text().replace("&&", "\0").replace("&", "").replace("\0", "&") \
        == f"1 {ODD}.h5"
    w = open_comparison([path, odd_sessions / "plain.h5", odd_sessions / f"{ODD}-gone.h5"])
    qtbot.addWidget(w)
    assert cut_plot_labels(w) == []
    shown = " | ".join(shown_label_texts(w))
    assert shown.count(ODD) >= 2, shown            # the run's column title and the notes
