"""ACCT staff pages: ``cases`` (one person's ACCT: concern, IAP, assessment, reviews, entries)
and ``board`` (the wing safety board, handover sheet, tasks and reports)."""
