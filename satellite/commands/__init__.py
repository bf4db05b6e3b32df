"""Subcommands of the `satellite` command line, one module each."""
