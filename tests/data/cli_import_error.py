"""A module that cannot be imported: ``paramcheck verify cli_import_error:X`` is a usage error."""

raise RuntimeError("this module is broken on purpose")
