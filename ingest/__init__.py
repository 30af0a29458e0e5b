"""Sources of raw market events and the service that publishes them to the RAW log."""
