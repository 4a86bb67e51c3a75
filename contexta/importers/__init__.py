"""Importers: history from other tracking tools, as ledger events (``contexta import``)."""

__all__: list[str] = []
