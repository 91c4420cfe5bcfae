"""The campaign: the ledger of submissions and what counts."""
