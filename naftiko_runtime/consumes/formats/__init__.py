"""One module per ``outputRawFormat``; :mod:`naftiko_runtime.consumes.decoding` is the entry point.

Each module turns a response body into JSON-like data (dict, list, str, int, float, bool, None)
and raises :class:`~naftiko_runtime.consumes.formats._common.FormatError` with a one-line reason
when the body is not valid. The modules are imported on first use, so a runtime that only ever
sees JSON never loads an HTML or Avro parser.
"""
