"""The shared test kit: builders of raw events (`events`), of derived events and their
records (`derived`), and one hand-built event of every type (`samples`)."""
