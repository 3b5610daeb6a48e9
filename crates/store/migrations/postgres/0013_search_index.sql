-- Substring search over message text (issue 11 item 6). pg_trgm cannot serve it: under the
-- server's locale it hashes Japanese trigrams, and 1- and 2-char terms (熱, 予約) have none.
-- Each document (a message today; notes may join with their own `kind`) is indexed as the
-- bigrams of its search form (`tsunagu_core::text::search_form`), computed in Rust
-- (`store::search::grams`), each gram one token (its code points in hex) at its position, in
-- a `tsvector` written directly (no parser in between); a query of n >= 2 chars is the phrase
-- `b1 <-> b2 <-> …` of its bigrams (exactly a substring of the search form), one char the
-- char's own token.
CREATE TABLE search_docs (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    kind TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    grams TSVECTOR NOT NULL,
    CONSTRAINT search_docs_doc_key UNIQUE (kind, doc_id)
);
CREATE INDEX search_docs_grams_idx ON search_docs USING GIN (grams);

-- Messages stored before this migration are indexed once at start (`store::search::backfill`).
CREATE TABLE search_backfill (done INTEGER NOT NULL);
INSERT INTO search_backfill (done) VALUES (0);
