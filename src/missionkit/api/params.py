"""Parameter types every router shares: ids and offsets the databases can hold.

An id or offset beyond a 32-bit integer is refused with 422 at the edge, rather than
overflowing in the database driver (found by the schema fuzz run, tests/test_api_fuzz.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from missionkit.domain.models import MAX_INT

RecordKey = Annotated[int, Path(ge=1, le=MAX_INT, description="The record's id.")]
Offset = Annotated[int, Query(ge=0, le=MAX_INT, description="Records to skip.")]
