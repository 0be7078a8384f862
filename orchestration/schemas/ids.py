"""The pattern of an id (figure_id, source_id, a source folder's name): one definition for the
contract (`schemas/figures.py`, `schemas/contract_sql.py`) and the folder hashes
(`ingestion/folder_files.py`), which must not import pandera."""

ID_PATTERN = r"[a-z0-9][a-z0-9._-]*"
