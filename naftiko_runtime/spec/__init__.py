"""Reading Naftiko documents: YAML with positions, the tolerant reader, typed models, semantic rules."""

from .loader import LoadReport, check, check_text, load, loads
from .models import Document
from .together import check_files

__all__ = ["Document", "LoadReport", "check", "check_files", "check_text", "load", "loads"]
