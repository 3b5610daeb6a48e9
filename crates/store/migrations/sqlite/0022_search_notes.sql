-- Private notes join the search index (kind `note`, indexed when written). Notes written
-- before this migration are indexed once at start (`store::search::backfill_notes`).
CREATE TABLE search_backfill_notes (done INTEGER NOT NULL);
INSERT INTO search_backfill_notes (done) VALUES (0);
