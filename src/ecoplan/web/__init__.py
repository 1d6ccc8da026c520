"""Server-rendered Chinese web UI (FastAPI + Jinja2) and the application factory."""
