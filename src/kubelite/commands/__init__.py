"""One module per ``kubelite`` subcommand; see ``kubelite.cli`` for the contract."""
