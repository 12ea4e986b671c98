"""The researcher's side: verify, decrypt and tabulate sealed summaries (runs off the hub)."""
