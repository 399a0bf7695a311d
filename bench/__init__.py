"""netplay's benchmark: a load generator, a raw uvloop relay as the ceiling, and the runner."""
