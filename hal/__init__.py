"""Device interfaces the application sees; status as values; backends opened in one place, `hal.backends`."""
