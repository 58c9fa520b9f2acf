"""The JSON export: the result as it is (``model.Result``), for tools and follow-ups.

A follow-up scan reads it back (``agenda.followup``), so its layout is
versioned (``model.JSON_EXPORT_VERSION``).  Non-ASCII stays as it is (UTF-8),
indented for a reader who opens the file.
"""

from __future__ import annotations

import json

from agenda.export.model import Result


def render_json(result: Result) -> bytes:
    """The JSON document of ``result``, UTF-8."""
    return json.dumps(result, ensure_ascii=False, indent=2).encode()
