-- Notes and patients get their own full-text tables beside messages': a search for notes or
-- patients then reads only their postings, not those of a million messages (予約 is in a
-- third of them). `search_docs` stays one table, so a document's `seq` is still its rowid in
-- whichever index holds it. Notes and patients indexed before this are moved once at start
-- (`store::search::split_kinds`): their rows leave `search_fts` and are indexed again here.
CREATE VIRTUAL TABLE search_note_fts USING fts5(
    bi, uni, content = '', contentless_delete = 1, tokenize = 'ascii'
);
CREATE VIRTUAL TABLE search_patient_fts USING fts5(
    bi, uni, content = '', contentless_delete = 1, tokenize = 'ascii'
);
CREATE TABLE search_split (done INTEGER NOT NULL);
INSERT INTO search_split (done) VALUES (0);
