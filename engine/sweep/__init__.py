"""Sweeps: one run per combination of swept config values, each its own session in one folder.

- :mod:`engine.sweep.plan` — the swept fields and their values, the runs they make
  and their names (``beta=0.5``).
- :mod:`engine.sweep.index` — ``sweep.json``, the folder's index: the plan and
  each run's file, status and final terms.
- :mod:`engine.sweep.runner` — trains the runs, several processes at a time with
  torch's threads divided among them; an interrupted sweep resumes.
- :mod:`engine.sweep.worker` — the process that trains one run (``python -m``).

Every run is an ordinary run of the one :class:`~engine.trainer.Trainer`,
recorded by the one :class:`~engine.session.SessionWriter`.
"""
