"""Documents generated from the data: 督办单 and the periodic progress bulletin (docx)."""
