""":class:`Session`: a session file opened for replay, inspection and resume.

Opening reads the small parts at once — format, config, data description,
the loss history and the per-epoch means — and checks them. Snapshots,
decoders and the checkpoint are read (and checked) when asked for, so
opening a long run and jumping to any epoch stays fast.

The file is opened read-only and never changed. A damaged file can make
HDF5 fail in many ways (OSError, KeyError, ValueError, ...); every public
method turns whatever happens into one :class:`~engine.errors.SessionError`
that names the file and the problem, so callers catch a single type.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from engine.config import RunConfig
from engine.decoding import LatentDecoder
from engine.errors import SessionError
from engine.events import Checkpoint, DatasetInfo, EpochSnapshot
from engine.session import loaders
from engine.session.schema import STATUSES, fail, plain, require_group, snapshot_name


@contextmanager
def _reading(path: Path, what: str):
    """Turn any failure while reading ``what`` into a SessionError naming the file."""
    try:
        yield
    except SessionError:
        raise
    except MemoryError:
        raise fail(path, f"{what} is too large to load; the file is probably damaged") from None
    # A damaged file can make h5py or numpy raise nearly anything; each is the same
    # problem to the user, so one message (with the library's words) covers them all.
    except Exception as e:
        detail = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise fail(path, f"cannot read {what}: the file is damaged or incomplete "
                         f"({detail})") from None


class Session:
    """A recorded training run. Open with :meth:`Session.open`.

    Attributes
    ----------
    path : the file.
    config : the run's :class:`RunConfig` (epochs = the last epoch trained for).
    format_version : the session format the file uses.
    app_version : the Autoencoder Studio version that created it.
    created : creation time (timezone-aware).
    status : 'running' (or killed while running), 'completed', 'stopped' or 'failed'.
    status_message : why a run failed, else None.
    data : the data description and probe images (:class:`DatasetInfo`).
    history : term -> (n,) float64 per logged step, plus 'step', 'epoch' (int64)
        and 'wall_time' (float64, seconds of training).
    epoch_history : {'epoch', 'step', 'wall_time': (E,) arrays, 'train': term ->
        (E,) epoch means on the training batches, 'val': term -> (E,) on the
        validation set}.
    snapshot_epochs : sorted epochs that have a snapshot.
    """

    def __init__(self, path: Path, file: h5py.File):
        self.path = path
        self._f = file
        root = file
        self.format_version, self.app_version, self.created = loaders.load_format(path, root)
        self.config: RunConfig = loaders.load_config(path, root)
        self.data: DatasetInfo = loaders.load_data(path, root)
        self.history: dict[str, np.ndarray] = loaders.load_history(path, root)
        self.epoch_history: dict = loaders.load_epochs(path, root, list(self.history))
        self._snapshots = loaders.load_snapshot_epochs(path, root)
        self.snapshot_epochs: list[int] = sorted(self._snapshots)
        status = plain(root.attrs.get("status", "running"))
        self.status = status if status in STATUSES else "running"
        message = plain(root.attrs.get("status_message"))
        self.status_message = message if isinstance(message, str) else None
        #: a pretrained-vs-random comparison stored with the run (/finetune, see
        #: engine.pretraining.results)
        self.has_comparison: bool = "finetune" in root

    # -- opening and closing ---------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> "Session":
        """Open and check a session file.

        Raises
        ------
        SessionError
            When the file is missing, not HDF5, cut short, from another
            program, incomplete, of a newer format version, or damaged.
        """
        path = Path(path)
        if not path.exists():
            raise fail(path, "does not exist")
        if path.is_dir():
            raise fail(path, "is a folder, not a session file")
        f = _open_locked(path)
        try:
            with _reading(path, "the session header"):
                return cls(path, f)
        except BaseException:
            f.close()
            raise

    def close(self) -> None:
        """Close the file; the values already read stay usable."""
        if self._f is not None:
            try:
                self._f.close()
            except Exception:  # noqa: BLE001 - closing a damaged file must not raise
                pass
            self._f = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _root(self) -> h5py.File:
        if self._f is None:
            raise fail(self.path, "the session is closed")
        return self._f

    # -- per-epoch data ----------------------------------------------------------------
    def _snapshot_group(self, epoch: int) -> h5py.Group:
        if epoch not in self._snapshots:
            saved = (f"{self.snapshot_epochs[0]}..{self.snapshot_epochs[-1]}"
                     if self.snapshot_epochs else "none")
            raise fail(self.path, f"has no snapshot for epoch {epoch} (saved epochs: {saved})")
        snaps = require_group(self.path, self._root(), "snapshots")
        return require_group(self.path, snaps, self._snapshots[epoch])

    def snapshot(self, epoch: int) -> EpochSnapshot:
        """The replay data of one epoch: probe inputs, reconstructions, codes, decoder weights."""
        with _reading(self.path, f"the snapshot of epoch {epoch}"):
            snap = loaders.load_snapshot(self.path, self._snapshot_group(epoch),
                                         self.config, self.data)
            if snap.epoch != epoch:
                raise fail(self.path, f"/snapshots/{snapshot_name(epoch)} says it is "
                                      f"epoch {snap.epoch}")
            return snap

    def decoder(self, epoch: int) -> LatentDecoder:
        """A CPU decoder with the weights of ``epoch`` (reads only the decoder weights)."""
        with _reading(self.path, f"the decoder of epoch {epoch}"):
            g = require_group(self.path, self._snapshot_group(epoch), "decoder")
            arrays = loaders.load_arrays(self.path, g, "f")
            try:
                return LatentDecoder(self.config, self.data.image_shape, arrays)
            except SessionError as e:
                raise fail(self.path, f"epoch {epoch}: {e}") from None

    def checkpoint(self) -> Checkpoint | None:
        """The state to resume from, or None when the run saved none."""
        with _reading(self.path, "the checkpoint"):
            g = self._root().get("checkpoint")
            if g is None:
                return None
            if not isinstance(g, h5py.Group):
                raise fail(self.path, "/checkpoint should be a group")
            return loaders.load_checkpoint(self.path, g, self.config, self.data)

    # -- summaries -------------------------------------------------------------------------
    @property
    def epochs_trained(self) -> int:
        """The last completed epoch (0 before the first one ends)."""
        ep = self.epoch_history["epoch"]
        return int(ep[-1]) if len(ep) else 0

    @property
    def file_size(self) -> int:
        """Size of the file in bytes."""
        return self.path.stat().st_size


def open_h5_for_reading(path: str | Path) -> h5py.File:
    """Open any of the app's HDF5 files read-only, with a shared HDF5 lock.

    Every read-only open in the app goes through here: HDF5 refuses to open a
    file that this process already has open with other locking settings (a
    session on display and its weights read again for the Fine-tuning tab
    failed as "not an HDF5 file"). The lock tells a writer not to reuse this
    version of the file as its spare (see atomic.py); 'best-effort' still
    opens on file systems without locks. A writer holds its exclusive lock
    only on a version it has just replaced, so a conflict means the path now
    names a newer version: retry.

    Raises
    ------
    BlockingIOError
        When the file stays locked; h5py's own errors for a bad file.
    """
    for attempt in range(4):
        try:
            return h5py.File(path, "r", locking="best-effort")
        except BlockingIOError:
            time.sleep(0.02 * (attempt + 1))
    return h5py.File(path, "r", locking="best-effort")  # the last try raises its error


def _open_locked(path: Path) -> h5py.File:
    """:func:`open_h5_for_reading`, its errors as SessionError naming the problem."""
    try:
        return open_h5_for_reading(path)
    except BlockingIOError:
        raise fail(path, "is locked by another program that is writing it") from None
    except Exception as e:  # noqa: BLE001 - h5py reports bad files as several types
        raise fail(path, _open_problem(e)) from None


def _open_problem(e: Exception) -> str:
    text = str(e)
    if isinstance(e, PermissionError) or "Permission denied" in text:
        return "cannot be read (permission denied)"
    if "truncated" in text:
        return "is cut short (truncated): the file was not completely written or copied"
    if "signature" in text or "not an HDF5" in text.lower():
        return "is not an HDF5 file, so not a session (or its first bytes are damaged)"
    first = text.splitlines()[0][:200] if text else type(e).__name__
    return f"cannot be opened as an HDF5 file: it is damaged ({first})"
