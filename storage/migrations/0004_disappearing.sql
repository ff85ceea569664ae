-- Per-chat choices, still keyed by HMAC-SHA256 of the chat id only. The language becomes optional so that a person
-- who only turns on disappearing messages stores no language; SQLite cannot drop a NOT NULL, so the table is rebuilt
-- (secure_delete zeroes the old pages). A row with neither choice is deleted, never kept empty.
CREATE TABLE prefs_new (
    lookup BLOB PRIMARY KEY,
    lang TEXT CHECK (lang IN ('ru', 'en')),
    disappear INTEGER NOT NULL DEFAULT 0 CHECK (disappear IN (0, 3600, 86400)),
    CHECK (lang IS NOT NULL OR disappear > 0)
) WITHOUT ROWID;
INSERT INTO prefs_new (lookup, lang) SELECT lookup, lang FROM prefs;
DROP TABLE prefs;
ALTER TABLE prefs_new RENAME TO prefs;

-- Messages to delete later, for chats that chose disappearing messages. A row holds the due time (rounded up to
-- ten minutes) and one AES-GCM blob sealing the chat id with up to 100 message ids, padded so its size says little.
-- No lookup key: without TROPA_SECRET_KEY two rows cannot be told to belong to the same chat. No rowid: the order
-- rows were written in is not kept either. A row is deleted as soon as its messages are.
CREATE TABLE deletions (
    due INTEGER NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (due, sealed)
) WITHOUT ROWID;
