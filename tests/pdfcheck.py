"""PDF/UA-1 and PDF/A-3b checks read with pikepdf: the clauses of ISO 14289-1 (PDF/UA-1) and
ISO 19005-3 (PDF/A-3b) that budgetgen's tagged output relies on, written after veraPDF's
public rule set (veraPDF is not packaged for Debian). Each check returns a list of failures
("clause: what"), empty when the document passes; docs/print.md lists the clauses.

The structure tree is walked from StructTreeRoot; marked content is read from each page's
content stream (pikepdf.parse_content_stream) and tied to the tree through the ParentTree.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pikepdf

STRUCTURE_TYPES = {  # ISO 32000-1 14.8.4 standard structure types
    "Document", "Part", "Art", "Sect", "Div", "BlockQuote", "Caption", "TOC", "TOCI", "Index",
    "NonStruct", "Private", "P", "H", "H1", "H2", "H3", "H4", "H5", "H6", "L", "LI", "Lbl",
    "LBody", "Table", "TR", "TH", "TD", "THead", "TBody", "TFoot", "Span", "Quote", "Note",
    "Reference", "BibEntry", "Code", "Link", "Annot", "Ruby", "RB", "RT", "RP", "Warichu", "WT",
    "WP", "Figure", "Formula", "Form"}
TEXT_OPS = {"Tj", "TJ", "'", '"'}


@dataclass
class Tree:
    """The structure tree in document order: (element, type, parent type) triples."""
    pdf: pikepdf.Pdf
    elements: list[tuple[pikepdf.Dictionary, str, str]] = field(default_factory=list)
    objgens: set[tuple[int, int]] = field(default_factory=set)
    annotations: set[tuple[int, int]] = field(default_factory=set)  # OBJR targets

    def of_type(self, kind: str) -> list[pikepdf.Dictionary]:
        return [e for e, s, _ in self.elements if s == kind]


def _name(value) -> str:
    return str(value)[1:] if value is not None else ""


def read_tree(pdf: pikepdf.Pdf) -> Tree:
    tree = Tree(pdf)
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return tree

    def walk(node, parent_type: str) -> None:
        kind = _name(node.get("/S"))
        tree.elements.append((node, kind, parent_type))
        tree.objgens.add(node.objgen)
        kids = node.get("/K")
        kids = list(kids) if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []
        for kid in kids:
            if isinstance(kid, pikepdf.Dictionary):
                if kid.get("/Type") == "/OBJR":
                    tree.annotations.add(kid.Obj.objgen)
                elif "/S" in kid:
                    walk(kid, kind)

    kids = root.get("/K")
    for kid in (list(kids) if isinstance(kids, pikepdf.Array) else [kids]):
        walk(kid, "")
    return tree


def _parent_tree(pdf: pikepdf.Pdf) -> dict[int, list]:
    nums = pdf.Root.StructTreeRoot.ParentTree.get("/Nums", pikepdf.Array())
    return {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}


def marked_content(pdf: pikepdf.Pdf, tree: Tree) -> list[str]:
    """7.1: every piece of text is either an artifact or tagged content whose MCID leads through
    the ParentTree to an element of the structure tree; artifacts and tagged content do not
    nest inside one another; each page's running header/footer is an artifact."""
    failures: list[str] = []
    parents = _parent_tree(pdf)
    for number, page in enumerate(pdf.pages, 1):
        entries = parents.get(int(page.obj.get("/StructParents", -1)))
        stack: list[tuple[str, int | None]] = []
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op in ("BMC", "BDC"):
                tag = _name(operands[0])
                mcid = None
                if op == "BDC" and isinstance(operands[1], pikepdf.Dictionary):
                    mcid = operands[1].get("/MCID")
                mcid = int(mcid) if mcid is not None else None
                artifact_above = any(t == "Artifact" for t, _ in stack)
                tagged_above = any(m is not None for _, m in stack)
                if tag == "Artifact" and tagged_above:
                    failures.append(f"7.1-1: page {number}: an artifact inside tagged content")
                if mcid is not None and artifact_above:
                    failures.append(f"7.1-2: page {number}: tagged content inside an artifact")
                if mcid is not None:
                    target = entries[mcid] if entries is not None and mcid < len(entries) else None
                    if not isinstance(target, pikepdf.Dictionary) or \
                            target.objgen not in tree.objgens:
                        failures.append(f"7.1-3: page {number}: MCID {mcid} (tag {tag}) is in "
                                        f"no element of the structure tree")
                stack.append((tag, mcid))
            elif op == "EMC" and stack:
                stack.pop()
            elif op in TEXT_OPS:
                if not any(t == "Artifact" or m is not None for t, m in stack):
                    failures.append(f"7.1-3: page {number}: text neither tagged nor an artifact")
    return sorted(set(failures))


def footers_are_artifacts(pdf: pikepdf.Pdf, first: int = 2) -> list[str]:
    """Pages from `first` on carry a Pagination artifact with text (the page number)."""
    failures = []
    for number, page in enumerate(pdf.pages, 1):
        if number < first:
            continue
        found, inside = False, 0
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op == "BDC" and _name(operands[0]) == "Artifact" and isinstance(
                    operands[1], pikepdf.Dictionary) and operands[1].get("/Subtype") == "/Footer":
                inside = 1
            elif op in ("BDC", "BMC") and inside:
                inside += 1
            elif op == "EMC" and inside:
                inside -= 1
            elif op in TEXT_OPS and inside:
                found = True
        if not found:
            failures.append(f"page {number}: no page number marked as a Pagination/Footer artifact")
    return failures


def metadata(pdf: pikepdf.Pdf, part: str) -> list[str]:
    """5 / 7.1-8 / 7.1-9 / 7.2: pdfuaid:part, dc:title, DisplayDocTitle, Lang, MarkInfo."""
    failures = []
    xmp = bytes(pdf.Root.Metadata.read_bytes()).decode()
    if part and f'pdfuaid:part="{part}"' not in xmp:
        failures.append("5: XMP has no pdfuaid:part")
    title = str(pdf.docinfo.get("/Title", ""))
    if not title or f">{title}</rdf:li>" not in xmp:
        failures.append("7.1-8: XMP dc:title missing or unlike the Info Title")
    prefs = pdf.Root.get("/ViewerPreferences", {})
    if prefs.get("/DisplayDocTitle") is not True:
        failures.append("7.1-9: ViewerPreferences/DisplayDocTitle is not true")
    if str(pdf.Root.get("/Lang", "")) != "zh-CN":
        failures.append("7.2-3: catalog Lang is not zh-CN")
    if pdf.Root.get("/MarkInfo", {}).get("/Marked") is not True:
        failures.append("7.1-11: MarkInfo/Marked is not true")
    if "/StructTreeRoot" not in pdf.Root:
        failures.append("7.1-10: no structure tree")
    return failures


def structure(tree: Tree) -> list[str]:
    """7.1-5 standard types; 7.4-1 headings in order without skipped levels; 7.5 tables:
    rows in a Table/THead/TBody, cells in a row, one THead a table at most, every TH with a
    Scope, Headers of each TD naming TH ids of the IDTree."""
    failures = []
    for _, kind, _ in tree.elements:
        if kind not in STRUCTURE_TYPES:
            failures.append(f"7.1-5: non-standard structure type {kind} without a RoleMap")
    level = 0
    for _, kind, _ in tree.elements:
        if re.fullmatch(r"H[1-6]", kind):
            new = int(kind[1])
            if new > level + 1:
                failures.append(f"7.4.2-1: heading {kind} follows H{level}")
            level = new
    ids = {}
    root = tree.pdf.Root.StructTreeRoot
    if "/IDTree" in root:
        names = root.IDTree.get("/Names", [])
        ids = {str(names[i]): names[i + 1].objgen for i in range(0, len(names), 2)}
    for element, kind, parent in tree.elements:
        if kind == "TR" and parent not in ("Table", "THead", "TBody", "TFoot"):
            failures.append(f"7.5-1: TR inside {parent}")
        if kind in ("TH", "TD") and parent != "TR":
            failures.append(f"7.5-1: {kind} inside {parent}")
        if kind in ("THead", "TBody", "TFoot") and parent != "Table":
            failures.append(f"7.5-1: {kind} inside {parent}")
        if kind == "Table":
            kids = Counter(_name(k.get("/S")) for k in _kids(element))
            if kids["THead"] > 1:
                failures.append("7.5: a Table with more than one THead (a repeated header tagged)")
            if set(kids) - {"THead", "TBody", "TFoot", "TR", "Caption"}:
                failures.append(f"7.5-1: Table holds {sorted(set(kids))}")
        if kind == "TH":
            scope = element.get("/A", {}).get("/Scope")
            if scope not in ("/Row", "/Column", "/Both"):
                failures.append("7.5-2: a TH without Scope")
            if "/ID" in element and ids.get(str(element.ID)) != element.objgen:
                failures.append(f"7.5-2: TH id {element.ID} not in the IDTree")
        if kind == "TD":
            for header in element.get("/A", {}).get("/Headers", []):
                if str(header) not in ids:
                    failures.append(f"7.5-2: TD Headers names {header}, not a header cell")
    return sorted(set(failures))


def _kids(element) -> list:
    kids = element.get("/K")
    kids = list(kids) if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []
    return [k for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k]


def annotations(pdf: pikepdf.Pdf, tree: Tree | None) -> list[str]:
    """7.18.1 annotations in the structure tree (OBJR); 7.18.3 Tabs /S; 7.18.5 links with a
    Contents description. PDF/A 6.3.2: the Print flag set, Hidden/Invisible/NoView not."""
    failures = []
    for number, page in enumerate(pdf.pages, 1):
        annots = page.obj.get("/Annots", [])
        if annots and tree is not None and page.obj.get("/Tabs") != "/S":
            failures.append(f"7.18.3-1: page {number} has annotations but no Tabs /S")
        for annot in annots:
            if tree is not None:
                if annot.objgen not in tree.annotations:
                    failures.append(f"7.18.1-2: page {number}: an annotation not in the tree")
                if annot.get("/Subtype") == "/Link" and not str(annot.get("/Contents", "")):
                    failures.append(f"7.18.5-2: page {number}: a link without Contents")
            flags = int(annot.get("/F", 0))
            if flags & 4 == 0 or flags & (1 | 2 | 32):
                failures.append(f"6.3.2: page {number}: annotation flags {flags}")
    return sorted(set(failures))


def fonts(pdf: pikepdf.Pdf) -> list[str]:
    """7.21.4.1 / PDF/A 6.2.11.4.1: every font embedded; 7.21.7 / 6.2.11.7: ToUnicode."""
    failures = []
    for number, page in enumerate(pdf.pages, 1):
        for name, font in page.Resources.get("/Font", {}).items():
            descendants = font.get("/DescendantFonts", [font])
            for sub in descendants:
                descriptor = sub.get("/FontDescriptor", {})
                if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    failures.append(f"7.21.4.1: page {number}: font {name} not embedded")
            if "/ToUnicode" not in font:
                failures.append(f"7.21.7-1: page {number}: font {name} has no ToUnicode")
    return sorted(set(failures))


def archival(pdf: pikepdf.Pdf) -> list[str]:
    """PDF/A-3b: 6.6.4 pdfaid part 3 conformance B; 6.2.3 an sRGB OutputIntent with its
    profile; 6.6.3 Info and XMP agree (Title, Producer); 6.1.3 a trailer ID, no encryption;
    6.6.1 no JavaScript."""
    failures = []
    xmp = bytes(pdf.Root.Metadata.read_bytes()).decode()
    if 'pdfaid:part="3"' not in xmp or 'pdfaid:conformance="B"' not in xmp:
        failures.append("6.6.4: XMP has no pdfaid:part 3 / conformance B")
    intents = pdf.Root.get("/OutputIntents", [])
    if not any(i.get("/S") == "/GTS_PDFA1" and "/DestOutputProfile" in i for i in intents):
        failures.append("6.2.3: no GTS_PDFA1 OutputIntent with a profile")
    for key, tag in (("/Title", "dc:title"), ("/Producer", "pdf:Producer")):
        value = str(pdf.docinfo.get(key, ""))
        if value and value not in xmp:
            failures.append(f"6.6.3: Info {key} is not the XMP {tag}")
    if "/ID" not in pdf.trailer:
        failures.append("6.1.3: no trailer ID")
    if pdf.is_encrypted:
        failures.append("6.1.3: encrypted")
    names = pdf.Root.get("/Names", {})
    if "/JavaScript" in names or "/AA" in pdf.Root:
        failures.append("6.6.1: JavaScript or additional actions")
    return failures
