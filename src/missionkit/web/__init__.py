"""Server-rendered pages (Jinja2); they call services and hold no SQL."""
