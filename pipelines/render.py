"""One way to turn data into an HTML report: jinja2 templates with autoescape.

Every report page (autumn check, indicators, proposal comparison) is a template in
``pipelines/templates`` rendered by :func:`render_page`. Data goes in only as template *variables*:
autoescape turns every string into text (``<script>`` shows as ``<script>``), and a string such as
``{{7*7}}`` or ``{% if %}`` from a school name is never compiled as template source. A variable the
template uses but the caller did not give is an error (``StrictUndefined``), not an empty string.
"""
from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

#: the environment of every report page (read-only after import: templates are compiled on first use)
ENVIRONMENT = Environment(
    loader=PackageLoader("pipelines", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_page(template: str, **variables) -> str:
    """Render ``pipelines/templates/<template>`` with ``variables`` (escaped when shown).

    Parameters
    ----------
    template : str
        The template's file name, e.g. ``"autumn_report.html"``.
    **variables
        The data the template shows: plain strings, numbers, lists and dicts.

    Returns
    -------
    str
        The page.
    """
    return ENVIRONMENT.get_template(template).render(**variables)
