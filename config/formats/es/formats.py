"""Spanish patient pages: dates as the clinic shows them in English, "12 mar 2026" (the
month as a word, so no reader takes the day for the month), typed day first as Spanish
speakers write them, or as the ISO date a date picker sends."""

DATE_FORMAT = SHORT_DATE_FORMAT = "j b Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "j b Y H:i"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
