"""The report a person reads (`--report`): report.html, from what the other stages already computed."""
