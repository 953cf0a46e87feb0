"""Parquet, read whole into memory; every column is cast to strings where Arrow can."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.errors import InputError
from engine.data.importing.records import cell_text
from engine.data.importing.registry import ReadRequest, reader
from engine.data.importing.source import check_size, os_error
from engine.data.importing.table import ImportedTable


def _as_strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_string(kind):
        return column
    if pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
        return column.cast(pa.string())
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "true", "false")
    if pa.types.is_floating(kind):
        # 1.0 -> "1" like a spreadsheet shows it, so float-typed class ids match integer ones.
        whole = pc.equal(column, pc.trunc(column))
        return pc.if_else(whole, column.cast(pa.int64(), safe=False).cast(pa.string()),
                          column.cast(pa.string()))
    try:
        return column.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        # Nested values as JSON does: a list of tags as "a|b", anything else as JSON text.
        return pa.chunked_array([pa.array([cell_text(v) for v in column.to_pylist()],
                                          type=pa.string())])


@reader("parquet", suffixes=(".parquet", ".pq"), description="Apache Parquet (.parquet)")
def read_parquet(path: Path, request: ReadRequest) -> ImportedTable:
    try:
        check_size(path, path.stat().st_size, request.max_bytes)
        with open(path, "rb") as handle:
            # Read through our own handle so OS errors surface here with the path named.
            table = pq.read_table(handle)
    except OSError as exc:
        if not isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)) and exc.errno is None:
            raise InputError(
                f"{path} is not a readable Parquet file ({str(exc).splitlines()[0]}). "
                "It may be truncated or another format; export it again."
            ) from None
        raise os_error(path, exc) from exc
    except Exception as exc:  # noqa: BLE001 - any parse failure of a user's file is "damaged"
        raise InputError(
            f"{path} is not a readable Parquet file ({str(exc).splitlines()[0]}). "
            "It may be truncated or another format; export it again."
        ) from None
    if table.num_rows == 0:
        raise InputError(f"{path} has no rows.")
    try:
        names = table.column_names
    except UnicodeDecodeError:
        raise InputError(f"{path} has column names that are not valid UTF-8; the file is "
                         "damaged. Export it again.") from None
    columns = {name: _as_strings(table.column(name)) for name in names}
    for name, column in columns.items():
        try:
            # Parquet does not check that text is valid UTF-8; every later step assumes it.
            column.validate(full=True)
        except pa.ArrowInvalid:
            raise InputError(
                f"{path}: column {name!r} holds text that is not valid UTF-8; the file is "
                "damaged or was written with a wrong encoding. Export it again."
            ) from None
    return ImportedTable(table=pa.table(columns), source=path, format="parquet", encoding=None,
                         first_data_line=1)
