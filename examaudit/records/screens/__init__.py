"""Statistical screens over validated records. Each is a small estimator: ``fit`` learns from
the whole province, ``score`` returns per-unit statistics and one-sided p-values (small means
suspicious) that :mod:`examaudit.records.fusion` can combine."""
