"""Input that Python or the database cannot take, found before any view uses it.

Each of these reached a view and answered 500:
- a NUL character: PostgreSQL text cannot hold one, and the driver refuses the query;
- a lone surrogate (a JSON string "\\ud800"): it decodes, but encoding the answer that quotes it
  back fails;
- JSON nested a thousand levels deep (a 2 KB body of "[[[["): Python's json module recurses once
  per level and runs out of stack; no input of this API nests more than a few levels;
- a number too large for any field (1e400 is infinity as a float).

`mpaspor.middleware.BadInputMiddleware` refuses such paths, queries, cookies, headers and form
fields; the API's JSON parser (`mpaspor.api.JSONParser`) and the payment notice refuse such JSON.
"""

import json
import math
import re

# A NUL, or a code point of the surrogate range, which only a pair may use and UTF-8 cannot hold.
_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")
# The deepest input of the API is a booking's applicant inside its body: 2 levels.
MAX_JSON_DEPTH = 16


def has_unsafe_text(text: str) -> bool:
    return _UNSAFE_TEXT.search(text) is not None


class UnprocessableJson(ValueError):
    """JSON that `load_json` refuses; `path` names the value at fault ("applicant.full_name",
    "" for the whole body), or is None when the nesting is at fault."""

    def __init__(self, reason: str, path: str | None):
        super().__init__(reason)
        self.path = path


def load_json(raw: bytes | str):
    """The JSON value of `raw`; ValueError when it is no JSON, and UnprocessableJson when it holds
    unsafe text in a key or a string, a number that is not finite, or nests deeper than
    MAX_JSON_DEPTH."""
    try:
        value = json.loads(raw)
    except RecursionError as exc:  # json recurses per nesting level before any check could run
        raise UnprocessableJson("nested too deeply", None) from exc
    check_json(value)
    return value


def check_json(value, path: str = "", depth: int = 0) -> None:
    """UnprocessableJson when a parsed JSON value holds what `load_json` refuses."""
    if depth > MAX_JSON_DEPTH:
        raise UnprocessableJson("nested too deeply", None)
    if isinstance(value, str):
        if has_unsafe_text(value):
            raise UnprocessableJson("a NUL or a lone surrogate in a string", path)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise UnprocessableJson("a number out of range", path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if has_unsafe_text(key):  # named by where it is: the key itself cannot be quoted back
                raise UnprocessableJson("a NUL or a lone surrogate in a key", path)
            check_json(item, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, f"{path}.{index}" if path else str(index), depth + 1)
