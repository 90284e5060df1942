"""Finance reconciliation: the transaction export, the daily summary and the statement diff.

Read-only over the ledger (no money logic here). Every CSV is written by ``cells`` so that
amounts are exact fixed-decimal numbers and text cells cannot become spreadsheet formulas.
"""
