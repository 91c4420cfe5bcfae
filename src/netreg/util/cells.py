"""Excel cell references: 0-based column index ↔ letters."""


def col_letter(index: int) -> str:
    """0-based column index → Excel letter (0 → A, 26 → AA)."""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def col_index(letters: str) -> int:
    """Excel letters → 0-based column index (A → 0)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1
