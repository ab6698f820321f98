-- (filled in by its domain)
SELECT 1;
