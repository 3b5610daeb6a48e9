-- Substring search over message text (issue 11 item 6). Each document (a message today; notes
-- may join with their own `kind`) is indexed as the bigrams of its search form
-- (`tsunagu_core::text::search_form`), computed in Rust (`store::search::grams`), each gram one
-- ASCII token (its code points in hex), so a query of n >= 2 chars is the phrase of its n-1
-- bigrams in order: exactly a substring of the search form. One-char queries use the `uni`
-- column (the document's distinct chars). A word tokenizer could not find 熱 in 発熱.

-- The document behind each index row. `seq` is the FTS rowid and grows as documents are
-- indexed, so newest first is the FTS rowid order (read backwards, stopping at the page).
CREATE TABLE search_docs (
    seq INTEGER PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    kind TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    CONSTRAINT search_docs_doc_key UNIQUE (kind, doc_id)
);

-- Contentless: only the index is kept (the text is the message's), and rows can be deleted
-- by rowid (edits, unsends, erasure, retention).
CREATE VIRTUAL TABLE search_fts USING fts5(
    bi, uni, content = '', contentless_delete = 1, tokenize = 'ascii'
);

-- Messages stored before this migration are indexed once at start (`store::search::backfill`).
CREATE TABLE search_backfill (done INTEGER NOT NULL);
INSERT INTO search_backfill (done) VALUES (0);
