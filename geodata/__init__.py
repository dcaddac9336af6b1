"""Reading, validating and aggregating the inputs; all geometry lives here."""
