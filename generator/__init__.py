"""budgetgen: 部门预算公开 from one YAML file of leaf facts.

The pipeline, one module per stage, data flowing one way:
load (YAML → marked tree) → model (typed, Decimal) → compute (rollups, schedules)
→ validate (located problems) → render (xlsx, html/pdf) → cli.
"""

__version__ = "0.1.0"
