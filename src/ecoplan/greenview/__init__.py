"""绿视率 (green view index): plan measure 14.1 "全市各区建成区绿视率稳中有升" (issue 9 item 4).

- :mod:`~ecoplan.greenview.method`   the method file (``data/greenview.toml``)
- :mod:`~ecoplan.greenview.classify` RGB array → green mask (Treepedia ExG/Otsu and others),
  pluggable backends
- :mod:`~ecoplan.greenview.images`   JPEG/PNG → RGB array, refusing bad or hostile files
- :mod:`~ecoplan.greenview.batch`    images from a folder or zip, classified in parallel
- :mod:`~ecoplan.greenview.manifest` the survey manifest (CSV/XLSX)
- :mod:`~ecoplan.greenview.aggregate` point and district GVI
- :mod:`~ecoplan.greenview.survey`   manifest → results
- :mod:`~ecoplan.greenview.points`   sample points along roads in the built-up area
- :mod:`~ecoplan.greenview.compare`  year-on-year verdict 稳中有升
- :mod:`~ecoplan.greenview.onnx_backend` optional user ONNX segmentation model

See docs/greenview.md.
"""
