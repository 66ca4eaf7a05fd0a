"""In-process controllers: API clients with a pure decision per object and a work queue."""
