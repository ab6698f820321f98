-- Attempts describe any transport: what carried the attempt (NULL when nothing was sent), where
-- it went (credentials masked), and how it was classified (NULL for attempts recorded before).
ALTER TABLE attempts ADD COLUMN transport TEXT;
ALTER TABLE attempts ADD COLUMN destination TEXT;
ALTER TABLE attempts ADD COLUMN outcome TEXT;
-- Before this version every attempt that sent something was an HTTP request; the ones that sent
-- nothing said why in their error.
UPDATE attempts SET transport = 'http'
 WHERE error IS NULL
    OR (error NOT LIKE 'cancelled:%'
        AND error NOT LIKE 'EventBridge delivery not configured%'
        AND error NOT LIKE 'route lookup failed%');
