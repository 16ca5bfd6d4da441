"""Attachment text: the PDF, DOC/DOCX, WPS, XLS/XLSX and OFD
files that notices link to, turned into text searched with the article.

Plain functions, no Scrapy: ``extract_attachment(body, url=..., name=...) -> Attachment``
(``extract.py``: sniff -> limits -> parser -> paragraphs) runs inside a worker
process (``worker.py``, driven by ``AttachmentWorkers`` in ``runner.py``) that bounds
its time and memory; ``notice.py`` joins the texts to the page's article, and lets a
"见附件" page whose own text is too short be indexed on its attachments.
"""
from pipelines.attachments.limits import AttachmentLimits, AttachmentRefused
from pipelines.attachments.model import Attachment, AttachmentFile

__all__ = ["Attachment", "AttachmentFile", "AttachmentLimits", "AttachmentRefused"]
