"""The composition root: the `flowtape` command and every subcommand."""
