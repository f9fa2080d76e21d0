"""Screenshots of the real window, mid-training, for the README: ``docs/screenshots/*.png``.

Runs the window offscreen (no display needed), trains presets from it the way a user
would — Train pressed, the run still going when the picture is taken — and grabs the
whole window and each panel as it is on screen (``screenshot_steps.panel_png``; *File →
Export figure* writes report-sized plots instead). Groups (``--only``):

- ``vae``: the 2-D VAE on MNIST mid-run: ``window.png``, ``loss-curves.png``,
  ``reconstructions.png``, ``latent-explorer.png``, ``samples.png``, ``image-detail.png``
  and ``window-1366x768.png`` / ``window-1920x1080.png`` (a laptop's and a full-HD screen);
- ``denoising``, ``pca``, ``sprites``: ``denoising-reconstructions.png`` (original | noisy |
  reconstructed), ``pca-latent-explorer.png`` (a 20-D VAE through PCA),
  ``sprites-latent-explorer.png`` (the map coloured by a factor);
- ``pretraining``: greedy layer-wise pretraining (784-256-64, then end to end) replayed at
  stage 2 (``pretraining.png``) and the Fine-tuning tab after comparing pretrained and random
  encoders (``finetuning.png``);
- ``generative``: the GAN, the VAE and the RBM presets on 8 Gaussians (``gan-toy.png``,
  ``gan-data-space.png``, ``vae-toy.png``, ``rbm-toy.png``), the RBM and the GAN on MNIST
  (``rbm.png``, ``gan.png``) and the Generative models tab with the three toy runs
  (``generative-models.png``);
- ``dbn``: a deep belief network versus an autoencoder stack versus random
  (``dbn-finetuning.png``);
- ``codes`` (or one of ``code-kl``, ``code-sparsity``, ``code-jacobian``, ``code-identity``,
  ``code-denoising``, ``code-drawing``, ``code-data-space``): the Code views tab, one scene
  per view (``code-*.png``, ``sparse-weighted-loss.png``, ``samples-from-p-x-given-z.png``,
  ``code-views-1366x768.png``).

Run: ``python scripts/make_screenshots.py [--out docs/screenshots] [--only GROUP ...]``
(about ten minutes on 2 cores, the ``codes`` scenes ten more).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.models import RBM  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from screenshot_steps import (panel_png, settle, stop, train_to_end, train_until,  # noqa: E402
                              wait_until)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent
                                         / "docs" / "screenshots"))
    ap.add_argument("--only", nargs="+", choices=sorted(GROUPS), help="only these groups")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from gui.app import training_threads
    torch.set_num_threads(training_threads())
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from gui.windows.main_window import MainWindow
    from gui.preferences import Preferences
    with tempfile.TemporaryDirectory() as tmp:
        prefs = Preferences(QSettings(str(Path(tmp) / "settings.ini"), QSettings.IniFormat))
        prefs.session_folder = Path(tmp) / "AutoencoderStudio" / "sessions"
        win = MainWindow(prefs)
        win.resize(1400, 900)
        win.show()
        settle(app)
        for name in args.only or [g for g in GROUPS if g not in CODE_SCENES]:
            GROUPS[name](app, win, out)
        win.close()
    for p in sorted(out.glob("*.png")):
        print(p)


SCREEN_SIZES = [(1366, 768), (1920, 1080)]


def shoot_vae(app, win, out: Path) -> None:
    """The 2-D VAE on MNIST: everything at once, mid-training."""
    win.settings_panel.load_preset("vae-2d")
    win.settings_panel.widgets["optim.epochs"].setText("30")
    train_until(app, win, win.settings_panel.config(), epochs_seen=10)
    explorer = win.explorer_panel
    explorer.move_marker(0.6, -0.8)
    for index in (3, 17, 120):
        explorer.pin_point(index)
    win.loss_panel.show_readout_at(win.loss_panel.curves["total"].raw.x[-1] * 0.6)
    settle(app, 0.5)
    win.grab().save(str(out / "window.png"))
    for key in ("loss-curves", "reconstructions", "latent-explorer", "samples"):
        panel_png(win, key, out / f"{key}.png")
    for width, height in SCREEN_SIZES:
        win.resize(width, height)
        settle(app, 0.6)
        win.grab().save(str(out / f"window-{width}x{height}.png"))
    win.resize(1400, 900)
    settle(app)
    detail = win.recon_panel.open_detail(5)
    settle(app)
    detail.grab().save(str(out / "image-detail.png"))
    detail.close()
    stop(app, win)


def shoot_denoising(app, win, out: Path) -> None:
    """Denoising: the noisy inputs beside their reconstructions."""
    cfg = load_preset("denoising").with_overrides({"optim.epochs": 12})
    train_until(app, win, cfg, epochs_seen=4)
    settle(app)
    panel_png(win, "reconstructions", out / "denoising-reconstructions.png")
    stop(app, win)


def shoot_pca(app, win, out: Path) -> None:
    """A 20-D VAE through PCA."""
    cfg = load_preset("variational").with_overrides({"optim.epochs": 12})
    train_until(app, win, cfg, epochs_seen=5)
    settle(app)
    panel_png(win, "latent-explorer", out / "pca-latent-explorer.png")
    stop(app, win)


def shoot_sprites(app, win, out: Path) -> None:
    """Sprites: the map coloured by a ground-truth factor."""
    cfg = load_preset("sprites-vae-2d").with_overrides({"optim.epochs": 30})
    train_until(app, win, cfg, epochs_seen=10)
    combo = win.explorer_panel.colour_combo
    combo.setCurrentIndex(max(0, combo.findText("x")))
    settle(app)
    panel_png(win, "latent-explorer", out / "sprites-latent-explorer.png")
    stop(app, win)


STAGE_EPOCHS, END_TO_END_EPOCHS = 8, 4


def shoot_pretraining(app, win, out: Path) -> None:
    """Greedy layer-wise pretraining, then the Fine-tuning tab's comparison."""
    settings = win.settings_panel
    settings.load_preset("stacked-pretraining")
    settings.pretrain_group.stage_epochs_edit.setText(str(STAGE_EPOCHS))
    settings.pretrain_group.end_to_end_edit.setText(str(END_TO_END_EPOCHS))
    win.train()
    wait_until(app, lambda: win.controller.is_running())
    wait_until(app, lambda: not win.controller.is_running())
    if "completed" not in win.banner.text():
        raise RuntimeError(f"the pretraining run did not complete: {win.banner.text()}")
    win.timeline_panel.select_epoch(2 * STAGE_EPOCHS)       # stage 2's last epoch
    settle(app, 0.5)
    win.grab().save(str(out / "pretraining.png"))

    panel = win.finetune_panel
    panel.budgets_edit.setText("100, 1000, all")
    panel.epochs_spin.setValue(15)
    win.tabs.setCurrentWidget(panel)
    panel.run_comparison()
    wait_until(app, lambda: not win.controller.is_running())
    if "comparison finished" not in win.banner.text():
        raise RuntimeError(f"the comparison did not complete: {win.banner.text()}")
    combo = panel.confusion.run_combo
    combo.setCurrentIndex(max(0, combo.findText("pretrained, 100 labels")))
    settle(app, 0.5)
    win.grab().save(str(out / "finetuning.png"))
    from engine.pretraining.comparison import comparison_table
    from engine.session import Session
    with Session.open(win.model.session_path) as session:
        print(comparison_table(session).format())
    win.tabs.setCurrentIndex(0)


def shoot_generative(app, win, out: Path) -> None:
    """The GAN, the VAE and the RBM on the same 2-D data, the RBM and the GAN on MNIST, and
    the Generative models tab with the three toy runs side by side."""
    toys = []
    for preset, shot in (("vae-toy", "vae-toy"), ("gan-toy", "gan-toy"),
                         ("rbm-toy", "rbm-toy")):
        train_to_end(app, win, load_preset(preset))
        toys.append(win.model.session_path)
        if preset == "gan-toy":
            win.explorer_panel.move_marker(1.2, 0.4)
            panel_png(win, "reconstructions", out / "gan-data-space.png")
        if preset == "rbm-toy":
            chains = win.views.generative.families[RBM].chains
            chains.restart()
            for _ in range(30):
                chains.step()
        settle(app, 0.5)
        win.grab().save(str(out / f"{shot}.png"))
    train_to_end(app, win, load_preset("rbm"))
    chains = win.views.generative.families[RBM].chains
    for _ in range(20):
        chains.step()
    settle(app, 0.5)
    win.grab().save(str(out / "rbm.png"))
    train_to_end(app, win, load_preset("gan"))
    win.explorer_panel.move_marker(0.8, -0.5)
    settle(app, 0.5)
    win.grab().save(str(out / "gan.png"))
    tab = win.generative_panel
    tab.clear()
    for path in toys:
        tab.add_session(path)
    win.tabs.setCurrentWidget(tab)
    settle(app, 0.8)
    win.grab().save(str(out / "generative-models.png"))
    win.tabs.setCurrentIndex(0)


def shoot_dbn(app, win, out: Path) -> None:
    """A deep belief network and an autoencoder stack of the same widths, then the
    Fine-tuning tab comparing both with random initialisation."""
    from engine.pretraining import GreedyPretraining
    from engine.session import SessionWriter
    folder = Path(win.preferences.session_folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for preset in ("stacked-pretraining", "dbn-pretraining"):
        cfg = load_preset(preset).with_overrides({"optim.epochs": STAGE_EPOCHS})
        paths[preset] = folder / f"{preset}.h5"
        with SessionWriter(paths[preset], force=True) as writer:
            GreedyPretraining(cfg).run(writer)
    win.open_session(paths["stacked-pretraining"])
    panel = win.finetune_panel
    win.tabs.setCurrentWidget(panel)
    panel.versus_edit.setText(str(paths["dbn-pretraining"]))
    panel.budgets_edit.setText("100, 1000, all")
    panel.epochs_spin.setValue(15)
    panel.freeze_check.setChecked(False)
    panel.run_comparison()
    wait_until(app, lambda: not win.controller.is_running(), timeout=900)
    combo = panel.confusion.run_combo
    combo.setCurrentIndex(max(0, combo.findText("rbm-pretrained, 100 labels")))
    settle(app, 0.5)
    win.grab().save(str(out / "dbn-finetuning.png"))
    win.tabs.setCurrentIndex(0)


# -- the Code views tab: one scene per view ----------------------------------------------

def show_code_view(app, win, view: str) -> None:
    """Bring the Code views tab's page of ``view`` on screen, drawn."""
    from gui.views.code_views import PAGES
    views = win.code_views
    win.tabs.setCurrentWidget(views.page)
    views.pages.setCurrentIndex(next(i for i, (_, _, keys) in enumerate(PAGES)
                                     if view in keys))
    settle(app, 0.3)
    views.flush()
    settle(app, 0.5)


def shoot_code_kl(app, win, out: Path) -> None:
    """KL per dimension: the 20-D VAE at beta 4, the KL spread unevenly over dimensions."""
    train_to_end(app, win, load_preset("vae-beta-4"))
    show_code_view(app, win, "kl_per_dimension")
    panel_png(win, "kl-per-dimension", out / "code-kl-per-dimension.png")


def shoot_code_sparsity(app, win, out: Path) -> None:
    """The sparse preset's activations over those of the same model at lambda = 0."""
    quick = {"optim.epochs": 5, "data.limit": 2000}
    train_to_end(app, win, load_preset("sparse").with_overrides(
        {**quick, "objective.sparsity": 0.0, "name": "sparse-lambda-0"}))
    reference = win.model.session_path
    train_to_end(app, win, load_preset("sparse").with_overrides(quick))
    show_code_view(app, win, "activation_histogram")
    win.code_views.panels["activation_histogram"].load_reference(reference)
    settle(app, 0.3)
    panel_png(win, "activation-histogram", out / "code-activation-histogram.png")
    win.tabs.setCurrentIndex(0)
    settle(app, 0.3)
    panel_png(win, "loss-curves", out / "sparse-weighted-loss.png")


def shoot_code_jacobian(app, win, out: Path) -> None:
    """The contractive preset: the Jacobian's norm falls, its spectrum is pressed down."""
    train_to_end(app, win, load_preset("contractive").with_overrides(
        {"optim.epochs": 6, "data.limit": 2000}))
    show_code_view(app, win, "jacobian_spectrum")
    panel_png(win, "jacobian-spectrum", out / "code-jacobian-spectrum.png")


def shoot_code_identity(app, win, out: Path) -> None:
    """An overcomplete plain autoencoder reconstructs noise nearly as well as digits."""
    for preset in ("plain-undercomplete", "plain-overcomplete"):
        train_to_end(app, win, load_preset(preset))
        show_code_view(app, win, "identity_probe")
        panel_png(win, "identity-probe", out / f"code-identity-{preset}.png")


def shoot_code_denoising(app, win, out: Path) -> None:
    """The noise slider on the denoising preset, past the level it was trained at, and the
    samples of a VAE drawn from p(x|z)."""
    train_to_end(app, win, load_preset("denoising").with_overrides({"optim.epochs": 6}))
    show_code_view(app, win, "noise_level")
    win.code_views.panels["noise_level"].set_corruption("masking", 0.6)
    settle(app, 0.5)
    panel_png(win, "noise-level", out / "code-noise-level.png")


def shoot_code_drawing(app, win, out: Path) -> None:
    """A drawn digit on the 2-D VAE's map, the map over time, and samples of p(x|z)."""
    train_to_end(app, win, load_preset("vae-2d").with_overrides({"optim.epochs": 12}))
    show_code_view(app, win, "drawing_pad")
    pad = win.code_views.panels["drawing_pad"]
    pad.canvas.stroke([(6.0, 9.0), (5.5, 18.0), (13.0, 15.0), (22.0, 12.0)])   # a 7
    settle(app, 0.5)
    win.code_views.pages.currentWidget().grab().save(str(out / "code-drawing-pad.png"))
    win.resize(1366, 768)             # the tab on a laptop's screen
    settle(app, 0.6)
    win.grab().save(str(out / "code-views-1366x768.png"))
    win.resize(1400, 900)
    settle(app)
    show_code_view(app, win, "latent_trails")
    panel_png(win, "latent-trails", out / "code-latent-trails.png")
    win.tabs.setCurrentIndex(0)
    win.samples_panel.set_drawing_samples(True)
    settle(app, 0.3)
    panel_png(win, "samples", out / "samples-from-p-x-given-z.png")
    win.samples_panel.set_drawing_samples(False)


def shoot_code_data_space(app, win, out: Path) -> None:
    """A denoising autoencoder on two moons: the arrows r(x) - x point back to the data;
    a 1-D code draws its curve."""
    moons = {"data.source": "moons", "model.variational": False, "optim.epochs": 60,
             "objective.corruption": "gaussian", "objective.corruption_level": 0.08}
    train_to_end(app, win, load_preset("vae-toy").with_overrides(moons))
    show_code_view(app, win, "data_space")
    panel_png(win, "data-space", out / "code-data-space-denoising.png")
    train_to_end(app, win, load_preset("vae-toy").with_overrides(
        {**moons, "model.latent_dim": 1, "objective.corruption": "none"}))
    show_code_view(app, win, "data_space")
    panel_png(win, "data-space", out / "code-data-space-1d.png")


CODE_SCENES = {"code-kl": shoot_code_kl, "code-sparsity": shoot_code_sparsity,
               "code-jacobian": shoot_code_jacobian, "code-identity": shoot_code_identity,
               "code-denoising": shoot_code_denoising, "code-drawing": shoot_code_drawing,
               "code-data-space": shoot_code_data_space}


def shoot_codes(app, win, out: Path) -> None:
    """Every scene of the Code views tab."""
    for scene in CODE_SCENES.values():
        scene(app, win, out)


GROUPS = {"vae": shoot_vae, "denoising": shoot_denoising, "pca": shoot_pca,
          "sprites": shoot_sprites, "pretraining": shoot_pretraining,
          "generative": shoot_generative, "dbn": shoot_dbn, **CODE_SCENES,
          "codes": shoot_codes}


if __name__ == "__main__":
    main()
