"""Render stage: Disclosure → XLSX workbook, HTML, PDF. Renderers never recompute figures."""
