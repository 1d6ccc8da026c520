"""Ecological accounting: the EI index (``ei``) and GEP-R (``gep``)."""
