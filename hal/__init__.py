"""Device interfaces the application sees; status as values; backends chosen in one place."""
