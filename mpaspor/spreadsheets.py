"""The one rule for a cell of an export (CSV or XLSX) that a spreadsheet program will open."""

# A spreadsheet runs a cell starting with one of these as a formula ("=HYPERLINK(...)",
# "@SUM(...)", "+cmd|..."); tab and carriage return can hide such a start.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Text that starts like a formula gets a leading apostrophe, which spreadsheets show as
    text; numbers, dates and None pass unchanged (a negative number is a number, not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
