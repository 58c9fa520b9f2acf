"""Session rules and templates: pure code with no I/O beyond reading template files."""
