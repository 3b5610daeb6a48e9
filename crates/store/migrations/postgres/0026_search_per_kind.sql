-- Notes and patients each get their own index of grams beside the one over every document: a
-- search for notes or patients (`kind = 'note'`, `kind = 'patient'`, written as literals)
-- then reads only their postings, not those of a million messages. Nothing moves here
-- (SQLite's separate full-text tables need `store::search::split_kinds`; this marker says
-- there is nothing to do).
CREATE INDEX search_docs_note_grams_idx ON search_docs USING GIN (grams) WHERE kind = 'note';
CREATE INDEX search_docs_patient_grams_idx ON search_docs USING GIN (grams) WHERE kind = 'patient';
CREATE TABLE search_split (done INTEGER NOT NULL);
INSERT INTO search_split (done) VALUES (1);
