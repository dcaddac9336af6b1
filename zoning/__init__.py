"""The zoning model: projection, integer program, independent checker, autumn check, indicators.

Works on plain numpy/pandas tables only; geometry stays in :mod:`geodata`.
"""
