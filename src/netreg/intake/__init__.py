"""Where files come from: a folder or files given on the command line (``folder``); the
campaign's ledger and mailbox come next. Each yields ``Input``s: the bytes on disk and the
name the user knows them by."""
