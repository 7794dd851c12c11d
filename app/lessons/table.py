"""`LESSONS`: the registry table of every lesson, in the gallery's order. A new lesson is one
`Lesson(...)` row in a row module, plus the check of its claim in tests/test_lessons.py."""

from __future__ import annotations

from app.lessons.advanced import ADVANCED
from app.lessons.basics import BASICS
from app.lessons.lesson import Lesson
from app.lessons.schedules import SCHEDULES
from common.registry import Registry

LESSONS: Registry[Lesson] = Registry("lesson", *BASICS, *SCHEDULES, *ADVANCED)
