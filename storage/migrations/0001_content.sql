-- Content items, their revisions, and the search index over published revisions.
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    section TEXT NOT NULL CHECK (section IN ('tactics', 'conscription', 'orgs')),
    slug TEXT NOT NULL,
    lang TEXT NOT NULL CHECK (lang IN ('ru', 'en')),
    published_revision INTEGER,
    UNIQUE (section, slug, lang),
    UNIQUE (slug, lang)
);

CREATE TABLE revisions (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    meta TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('file', 'admin')),
    author TEXT NOT NULL,
    file_hash TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (item_id, revision)
);

CREATE VIRTUAL TABLE search USING fts5 (
    title, summary, tags, body,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3 4'
);

CREATE VIRTUAL TABLE search_vocab USING fts5vocab (search, 'row');

-- Language choice per chat, keyed by HMAC-SHA256 of the chat id; never the id itself.
CREATE TABLE prefs (
    lookup BLOB PRIMARY KEY,
    lang TEXT NOT NULL CHECK (lang IN ('ru', 'en'))
) WITHOUT ROWID;
