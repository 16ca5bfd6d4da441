"""Office documents: DOCX (python-docx), XLSX (openpyxl, read-only streaming), XLS (xlrd), and
the OLE Word formats through Debian's converters: ``catdoc`` for Word 97-2003 ``.doc`` and WPS
(Kingsoft WPS saves OLE Word-compatible files), ``antiword`` when catdoc gives nothing. Zip containers pass ``check_zip`` first.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile

from pipelines.attachments.limits import AttachmentLimits, AttachmentRefused, check_zip

CELL_SEPARATOR = " | "     # table cells: a phrase never runs from one cell into the next
_ZIP_ERRORS = (zipfile.BadZipFile, KeyError, ValueError, EOFError, OSError)


def docx_text(body: bytes, limits: AttachmentLimits) -> str:
    check_zip(body, limits)
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    try:
        document = docx.Document(io.BytesIO(body))
    except (PackageNotFoundError, *_ZIP_ERRORS) as exc:
        raise AttachmentRefused("broken", f"unreadable DOCX: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - lxml XMLSyntaxError and friends in a damaged part
        raise AttachmentRefused("broken", f"unreadable DOCX: {type(exc).__name__}: {exc}") from exc
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells = []
            for cell in row.cells:
                if not cells or cell.text != cells[-1]:   # merged cells repeat their text
                    cells.append(cell.text)
            lines.append(CELL_SEPARATOR.join(c for c in cells if c))
    return "\n\n".join(lines)


def xlsx_text(body: bytes, limits: AttachmentLimits) -> str:
    check_zip(body, limits)
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on damaged files
        raise AttachmentRefused("broken", f"unreadable XLSX: {type(exc).__name__}: {exc}") from exc
    lines: list[str] = []
    size = 0
    try:
        for sheet in book.worksheets:
            lines.append(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                line = CELL_SEPARATOR.join(str(v) for v in row if v is not None and str(v).strip())
                if line:
                    lines.append(line)
                    size += len(line)
                if size > limits.max_chars:
                    return "\n\n".join(lines)
    finally:
        book.close()
    return "\n\n".join(lines)


def doc_text(body: bytes, limits: AttachmentLimits) -> str:
    """Word 97-2003 / WPS: catdoc, then antiword (each misses files the other reads)."""
    text = _convert(["catdoc", "-w", "-d", "utf-8"], body, limits)
    if text.strip():
        return text
    return _convert(["antiword", "-m", "UTF-8.txt"], body, limits)


def xls_text(body: bytes, limits: AttachmentLimits) -> str:
    """Excel 97-2003 with xlrd (catdoc's xls2csv loses Chinese shared strings)."""
    import xlrd
    try:
        book = xlrd.open_workbook(file_contents=body, on_demand=True)
    except Exception as exc:  # noqa: BLE001 - xlrd raises XLRDError, CompDocError, struct.error...
        reason = "encrypted" if "encrypt" in str(exc).lower() else "broken"
        raise AttachmentRefused(reason, f"unreadable XLS: {type(exc).__name__}: {exc}") from exc
    lines: list[str] = []
    size = 0
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            lines.append(sheet.name)
            for row in range(sheet.nrows):
                line = CELL_SEPARATOR.join(_cell(v) for v in sheet.row_values(row) if _cell(v))
                if line:
                    lines.append(line)
                    size += len(line)
                if size > limits.max_chars:
                    return "\n\n".join(lines)
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return "\n\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _convert(command: list[str], body: bytes, limits: AttachmentLimits) -> str:
    if shutil.which(command[0]) is None:
        raise AttachmentRefused("unsupported", f"{command[0]} is not installed (Debian package catdoc/antiword)")
    with tempfile.NamedTemporaryFile(suffix=".bin") as handle:
        handle.write(body)
        handle.flush()
        try:
            done = subprocess.run([*command, handle.name], capture_output=True, timeout=limits.timeout)
        except subprocess.TimeoutExpired as exc:
            raise AttachmentRefused("timeout", f"{command[0]} ran over {limits.timeout:g} s") from exc
    out = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0 and not out.strip():
        message = done.stderr.decode("utf-8", "replace").strip()[:200]
        if "encrypt" in message.lower() or "password" in message.lower():
            raise AttachmentRefused("encrypted", message)
        return ""
    return out
