"""One-click lessons: a registry table of "predict, then run" set-ups, each a shareable link.

A `Lesson` (`lesson.py`) is a question to answer before running, a page state written as a link's
query (`query`, without `v=` and `lesson=`), and what to look for on screen afterwards. `LESSONS`
(`table.py`; its rows in `basics.py`, `schedules.py` and `advanced.py`) is the table the gallery
and the tests read; `CONCEPTS` names what the lessons teach, and every concept has at least one
lesson (tests/test_lessons.py checks both, and checks each lesson's claim through the engine).

The UI (`render.py`) is three functions for the page: `lesson_picker()` (a picker with an "Open
lesson" button, in the header), `gallery_table()` (every lesson, as links) and `lesson_card(key)`
(the open lesson's question and what to look for, with a close button).
"""

from app.lessons.lesson import CONCEPTS, Lesson, query_string
from app.lessons.render import close_lesson, gallery_table, lesson_card, lesson_picker, lesson_text
from app.lessons.table import LESSONS

__all__ = [
    "CONCEPTS",
    "LESSONS",
    "Lesson",
    "close_lesson",
    "gallery_table",
    "lesson_card",
    "lesson_picker",
    "lesson_text",
    "query_string",
]
