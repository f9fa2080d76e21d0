"""Lessons in the window: each claim of the course notes as runs that show it.

:mod:`gui.lessons.lesson_window` is the window a lesson opens in (the Lessons
menu of the main window lists them, :mod:`gui.windows.window_menus`);
:mod:`gui.lessons.run_columns` lays its runs side by side, following their
session files; :mod:`gui.lessons.explanation` is its text and its numbers.
The lessons themselves, and the training, are the engine's (``engine.lessons``).
"""
