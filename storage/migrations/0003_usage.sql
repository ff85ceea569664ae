-- Counts per day and event (command names, digests sent): never per person.
CREATE TABLE usage (
    day TEXT NOT NULL,
    event TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, event)
) WITHOUT ROWID;
