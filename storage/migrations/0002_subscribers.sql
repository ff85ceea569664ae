-- Digest subscribers. A row holds only what delivery needs: the HMAC lookup key, the sealed chat id,
-- the choices, and the schedule. No sign-up time, no names.
CREATE TABLE subscribers (
    lookup BLOB PRIMARY KEY,
    sealed BLOB NOT NULL,
    topics INTEGER NOT NULL CHECK (topics BETWEEN 1 AND 15),
    rhythm TEXT NOT NULL CHECK (rhythm IN ('daily', 'weekly')),
    weekday INTEGER CHECK (weekday BETWEEN 0 AND 6),
    hour INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    lang TEXT NOT NULL CHECK (lang IN ('ru', 'en')),
    sound INTEGER NOT NULL DEFAULT 0 CHECK (sound IN (0, 1)),
    next_due INTEGER NOT NULL,
    last_digest INTEGER
) WITHOUT ROWID;

CREATE INDEX subscribers_due ON subscribers (next_due, lookup);

-- When each item's live revision was published, so a digest can list what is new.
ALTER TABLE items ADD COLUMN published_at INTEGER;
UPDATE items SET published_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE published_revision IS NOT NULL;
