"""Memory: WeasyPrint's Font keeps a bytes copy of the whole font file it uses (a Noto CJK
collection is 20–27 MB; a disclosure uses four faces), although HarfBuzz subsets from the face
it already has. LazyFont drops that first copy and reads the face again only if something asks
for the full file (fontTools paths for variable or colour fonts, or a failed subset).

This touches WeasyPrint's internal Font class, so tests/test_pdf.py checks the fonts embedded
in the PDF (subset, CJK, covering the text); a WeasyPrint change cannot slip by unnoticed.
"""
from __future__ import annotations

import weasyprint.pdf.stream as _stream
from weasyprint.pdf.fonts import Font
from weasyprint.text.fonts import get_hb_object_data


class LazyFont(Font):
    @property
    def file_content(self) -> bytes:
        data = self.__dict__.get("_content")
        if data is None:
            data = self.__dict__["_content"] = get_hb_object_data(self.hb_face)
        return data

    @file_content.setter
    def file_content(self, value: bytes) -> None:
        if "_constructed" not in self.__dict__:  # Font.__init__'s copy of the whole file
            self.__dict__["_constructed"] = True
            return
        self.__dict__["_content"] = value


def install() -> None:
    """Make WeasyPrint's PDF stream create LazyFont objects (idempotent)."""
    _stream.Font = LazyFont
