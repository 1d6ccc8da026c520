"""EcoPlan: supervision and ecological accounting for an ecological-protection action plan."""

__version__ = "0.1.0"
