"""Getting pictures in: scanning folders, splitting without leaks, sample data."""
