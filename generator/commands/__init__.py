"""The commands: what a user runs (`budgetgen render`, `check`, `new`, `roll`, `import`, `watch`,
`layouts`, `catalog`, `schema`), built on the pipeline stages below them and imported by nothing
of theirs. cli.py is the typer application; jobs.py runs the pipeline for one file, batch.py for
many; cache.py keeps the skip-unchanged records; report.py the summaries; exitcodes.py the
exit statuses.
"""
