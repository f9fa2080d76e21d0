"""Crash-safe updates of one HDF5 file: build the next version aside, then rename it over.

HDF5 has no journal: a process killed while it writes can leave a file whose
metadata no longer parses. So the published file is never opened for
writing. Each :meth:`AtomicH5File.commit` builds the next version in
``<name>.tmp`` beside it, flushes it to disk and moves it over the published
one with ``os.replace`` (atomic on POSIX and Windows). Killing the process
at any moment leaves the previous version or the new one, never a mixture.

Two generations, so that a commit costs the change and not the whole file.
The version a commit replaces is not deleted: it is kept (through a hard
link) as the next ``.tmp``. HDF5 writes the change through a file object
that records every write (offset and bytes); once the new version is
published, those bytes are written into the kept version, which makes it
byte-identical to the published one, ready for the next change. So the
whole file is copied once per writer (for a new session while it holds only
its header), never at every epoch, and HDF5 does each change only once.

A replaced version may still be open in a reader (the GUI replaying a run
while it trains). It is changed only under an exclusive ``flock``; HDF5
readers (:class:`~engine.session.reader.Session` among them) hold a shared
one, so a version someone reads is never changed under them. Its catch-up
then waits for the next commit, which redoes it once the reader has let go
(a reader that follows a file reads for a moment after each commit); only
if the reader still holds it then does that commit copy the published file.
The same fallback covers file systems without hard links or locks, and
Windows.

Publishing — fsync, the renames, the catch-up writes — runs on a background
thread (:class:`~engine.session.background.BackgroundJob`): it mostly waits
on the disk. Building the version (the HDF5 writes) stays on the caller's
thread. The next commit, and :meth:`AtomicH5File.wait`, wait for it.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from pathlib import Path
from typing import BinaryIO, Callable

import h5py

from engine.session.background import BackgroundJob
from engine.session.schema import LIBVER

try:
    import fcntl
except ImportError:  # Windows: no flock, so a replaced version is never reused
    fcntl = None

#: A replaced version a reader held at its publish: the next commit tries this often, this
#: far apart, to redo its catch-up before it copies the whole file instead.
LOCK_TRIES, LOCK_WAIT_S = 5, 0.01

Change = Callable[[h5py.File], None]
Edit = tuple[int, int] | tuple[int, None]   # (offset, length) written, or (size, None) truncated


class AtomicH5File:
    """An HDF5 file that only ever changes by whole, atomic commits.

    Parameters
    ----------
    path : the published file.
    durable : fsync each new version and its folder, so that a power cut (not
        only a killed process) keeps a complete file.
    background : publish (fsync, rename, catch-up) on a background thread;
        :meth:`wait` waits for it, and so does the next commit.

    One thread commits at a time.
    """

    def __init__(self, path: str | Path, durable: bool = True, background: bool = True):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self.old = self.path.with_name(self.path.name + ".old")
        self.durable = durable
        self.publisher = BackgroundJob(f"publish {self.path.name}", enabled=background)
        self._spare = False   # is .tmp a byte-identical copy of the published file?
        self._behind: list[Edit] | None = None   # or the writes that would make it one
        self.copies = 0       # whole-file copies made (for tests and benchmarks)

    def commit(self, change: Change, fresh: bool = False) -> None:
        """Build a new version — the current file (or an empty one) with ``change``
        applied — and start publishing it.

        Parameters
        ----------
        change : writes the change into the open file (on the caller's thread).
        fresh : start from an empty file: a new session, or one that replaces
            an unrelated file (which is then not kept).

        Raises
        ------
        OSError, and whatever ``change`` raises (the published file is then
        untouched); also the error of the previous commit's publishing.
        """
        self.wait()
        try:
            raw, create = self._open_next(fresh)
            recorder = _RecordingFile(raw)
            try:
                f = (h5py.File(recorder, "w", libver=LIBVER) if create
                     else h5py.File(recorder, "r+", libver=LIBVER))
                try:
                    change(f)
                finally:
                    f.close()
                raw.flush()
                if recorder.error is not None:
                    raise recorder.error
            except BaseException:
                raw.close()
                if recorder.error is not None:
                    # The disk's own error (a full disk), not what HDF5 made of it.
                    raise recorder.error from None
                raise
        except BaseException:
            self.discard()
            raise
        self.publisher.submit(lambda: self._publish(raw, recorder.edits, keep_old=not fresh))

    def wait(self) -> None:
        """Wait until the last commit is published; raise its error, if any."""
        try:
            self.publisher.wait()
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Remove the kept version and any half-built one (after a failure, or when done).

        Never raises: it cleans up after an error that is being reported (on a
        read-only file system there is nothing to remove, and nothing can be).
        """
        self._spare, self._behind = False, None
        for p in (self.tmp, self.old):
            try:
                _unlink(p)
            except OSError:
                pass

    # -- the next version ------------------------------------------------------------
    def _open_next(self, fresh: bool) -> tuple[BinaryIO, bool]:
        """The file to build the next version in (locked), and whether HDF5 must create it."""
        if fresh or not self.path.exists():
            _unlink(self.tmp)  # never truncate it in place: a reader may have it open
            return open(self.tmp, "w+b", buffering=0), True
        if (self._spare or self._behind is not None) and self.tmp.exists():
            raw = open(self.tmp, "r+b", buffering=0)
            # A reader that held the replaced version at the last publish lets go soon.
            if _lock(raw, tries=1 if self._spare else LOCK_TRIES):
                if self._behind is not None:
                    _redo(raw.fileno(), self.path, self._behind)
                return raw, False
            raw.close()  # someone still reads that version: leave it alone
        self._spare, self._behind = False, None
        self.copies += 1
        _unlink(self.tmp)
        shutil.copyfile(self.path, self.tmp)   # in the kernel where the OS allows it
        raw = open(self.tmp, "r+b", buffering=0)
        _lock(raw)
        return raw, False

    # -- publishing (background) -------------------------------------------------------
    def _publish(self, raw: BinaryIO, edits: list[Edit], keep_old: bool) -> None:
        with raw:
            if self.durable:
                os.fsync(raw.fileno())
        kept = False
        if keep_old and self.path.exists():
            # A second name for the version being replaced: it becomes the next .tmp.
            try:
                _unlink(self.old)
                os.link(self.path, self.old)
                kept = True
            except OSError:  # no hard links here: the next commit copies instead
                kept = False
        os.replace(self.tmp, self.path)
        if self.durable:
            _fsync_dir(self.path.parent)
        if kept:
            os.replace(self.old, self.tmp)
            self._spare = _catch_up(self.tmp, self.path, edits)
            self._behind = None if self._spare else edits


class _RecordingFile:
    """A file object for h5py's ``fileobj`` driver that records what HDF5 writes.

    ``raw`` should be unbuffered: HDF5 buffers on its own, and every write must
    reach the file before it is published.
    """

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self.edits: list[Edit] = []
        #: the first error of the file itself (a full disk): see :meth:`_failed`
        self.error: OSError | None = None

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def read(self, size: int = -1) -> bytes:
        return self._raw.read(size)

    def readinto(self, buffer) -> int:
        return self._raw.readinto(buffer)

    def write(self, data) -> int:
        if self.error is not None:
            return len(data)
        offset = self._raw.tell()
        view = memoryview(data).cast("B")
        done = 0
        try:
            # An unbuffered file may write less than asked (a disk filling up): write
            # the rest, so that a short write is an error and never a silent gap.
            while done < len(view):
                n = self._raw.write(view[done:])
                if not n:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self._raw.name))
                done += n
        except OSError as e:
            self._failed(e)
        # Only where: the catch-up copies the bytes from the published file, on the
        # background thread (a checkpoint is megabytes; copying it here cost the
        # training thread a millisecond per epoch).
        self.edits.append((offset, len(view)))
        return len(view)

    def truncate(self, size: int | None = None) -> int:
        size = self._raw.tell() if size is None else size
        if self.error is None:
            try:
                self._raw.truncate(size)
            except OSError as e:
                self._failed(e)
        self.edits.append((size, None))
        return size

    def flush(self) -> None:
        if self.error is None:
            try:
                self._raw.flush()
            except OSError as e:
                self._failed(e)

    def _failed(self, error: OSError) -> None:
        """Keep the file's first error; from now on writes only pretend to succeed.

        An exception raised inside HDF5's write callback leaves HDF5 with a file it
        can neither write nor close: it reports nonsense (a SystemError about
        ``list.append``) and can crash the process when that file object is freed
        or another file is opened. Pretending lets HDF5 finish and close this
        version normally; :meth:`AtomicH5File.commit` then raises ``error`` and
        throws the version away, so nothing half-written is ever published.
        """
        self.error = error


def _catch_up(path: Path, published: Path, edits: list[Edit]) -> bool:
    """Make the kept version ``path`` byte-identical to ``published`` by redoing the
    recorded writes, their bytes read from ``published``; False if a reader holds it."""
    with open(path, "r+b") as raw:
        if not _lock(raw):
            return False
        _redo(raw.fileno(), published, edits)
    return True


def _redo(fd: int, published: Path, edits: list[Edit]) -> None:
    """Redo ``edits`` in the file ``fd``, their bytes read from ``published``."""
    with open(published, "rb") as source:
        src = source.fileno()
        for offset, length in edits:
            if length is None:
                os.ftruncate(fd, offset)
            else:
                # A range may have been truncated away later: copy what the file has.
                os.pwrite(fd, os.pread(src, length, offset), offset)


def _lock(raw: BinaryIO, tries: int = 1) -> bool:
    """Take an exclusive flock, trying ``tries`` times a few ms apart; False when someone
    holds the file."""
    if fcntl is None:
        return False
    for attempt in range(tries):
        try:
            fcntl.flock(raw.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            if attempt + 1 < tries:
                time.sleep(LOCK_WAIT_S)
    return False


def _unlink(path: Path) -> None:
    # Unlinked, never overwritten: a reader of that version keeps its data intact.
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        # A read-only file system says so (EROFS) even for a file that is not there.
        if os.path.lexists(path):
            raise


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
