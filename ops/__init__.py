"""Operations: the health contract every service serves, and what reads it."""
