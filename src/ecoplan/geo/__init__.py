"""Geospatial core: CRS handling (incl. GCJ-02), region layers, rasters, zonal statistics.

Engines here take arrays and geometries and return tables; reading files and talking to a
dask cluster happen around them (see ``docs/geo.md``).
"""
