"""The clinic's date and time formats, as Django reads a locale's (FORMAT_MODULE_PATH)."""
