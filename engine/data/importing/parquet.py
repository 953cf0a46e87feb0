"""Parquet, read whole into memory; every column is cast to strings where Arrow can."""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.errors import InputError
from engine.data.importing.records import cell_text
from engine.data.importing.registry import ReadRequest, reader
from engine.data.importing.source import MAX_BYTES_ENV, check_size, os_error
from engine.units import human_size
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


# Rows decoded at a time: the running total is checked between batches, so a file's text never
# takes much more than the limit in memory before it is refused.
_BATCH_ROWS = 65_536


def _dense_bytes(column: pa.Array) -> int:
    """What a column takes once its values are written out: a dictionary-encoded column holds
    each distinct text once in the file, and every row's copy once cast to strings."""
    if not pa.types.is_dictionary(column.type):
        return column.nbytes
    values = column.dictionary
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type) or pa.types.is_binary(values.type):
        per_row = pc.take(pc.binary_length(values), column.indices)
        return 8 * len(column) + int(pc.sum(per_row).as_py() or 0)
    return 8 * len(column) + values.nbytes * len(column)


def _too_big(path: Path, max_bytes: int) -> InputError:
    return InputError(
        f"{path} unpacks to more than {human_size(max_bytes)} of data (Parquet is compressed: "
        f"the file is {human_size(path.stat().st_size)}); Cloister reads datasets into memory and "
        f"accepts up to {human_size(max_bytes)}. Split the file into smaller parts, drop unused "
        f"columns, or raise the limit with the {MAX_BYTES_ENV} environment variable if this "
        "machine has the memory.")


def _read_within(path: Path, handle: BinaryIO, max_bytes: int) -> pa.Table:
    """The file's table, refused as soon as what it unpacks to passes ``max_bytes``: a small
    file of one long text repeated a million times (compressed, or stored once in a dictionary)
    would otherwise take gigabytes before anything could look at it."""
    parquet = pq.ParquetFile(handle)
    meta = parquet.metadata
    if sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)) > max_bytes:
        raise _too_big(path, max_bytes)
    batches, held = [], 0
    for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
        held += sum(_dense_bytes(column) for column in batch.columns)
        if held > max_bytes:
            raise _too_big(path, max_bytes)
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=parquet.schema_arrow)


@reader("parquet", suffixes=(".parquet", ".pq"), description="Apache Parquet (.parquet)")
def read_parquet(path: Path, request: ReadRequest) -> ImportedTable:
    try:
        check_size(path, path.stat().st_size, request.max_bytes)
        with open(path, "rb") as handle:
            # Read through our own handle so OS errors surface here with the path named.
            table = _read_within(path, handle, request.max_bytes)
    except InputError:
        raise
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
