"""Maps of a finished proposal folder: planner map, parents' map, comparison map, notice images.

``maps`` reads files only (docs/ARCHITECTURE.md, "The proposal folder"); it never imports the
optimizer. Leaflet is vendored in ``maps/assets`` so that no page loads anything from a foreign CDN.
"""
