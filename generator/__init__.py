"""budgetgen: 部门预算公开 from one YAML file of leaf facts.

The pipeline, one module per stage, data flowing one way:
load (YAML → marked tree) → model (typed, Decimal) → compute (rollups, schedules)
→ validate (located problems) → render (xlsx, html/pdf) → commands.

    loader.py, yamltree.py, infile.py   load: bytes → text → a tree that remembers line and column
    model.py, schema.py, money.py       model: the typed Budget (Decimal amounts) and its JSON Schema
    layout.py, catalog.py               the data a model is read against: layouts and catalogs
    consolidate.py                      a 部门 = 本级 + 所属单位
    compute/                            rollup trees, schedules, the explanatory text's figures
    validate/                           cross-table rules → located problems
    pipeline.py                         load → model → compute → validate, (result, problems)
    render/                             HTML, PDF (WeasyPrint), XLSX: lay out, never recompute
    commands/                           what a user runs: cli.py and the commands it calls
"""

__version__ = "0.1.0"
