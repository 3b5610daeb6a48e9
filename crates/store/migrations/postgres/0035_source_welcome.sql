-- What a patient gets on arriving through an inflow source (流入経路): a greeting and/or a
-- published flow of the clinic, once per patient and source (welcome_every = 0, 初回のみ) or on
-- every message carrying the code (1, 読み取るたび). Empty text and no flow: nothing is sent.
ALTER TABLE inflow_sources ADD COLUMN welcome_text TEXT NOT NULL DEFAULT '';
ALTER TABLE inflow_sources ADD COLUMN welcome_flow_id TEXT;
ALTER TABLE inflow_sources ADD COLUMN welcome_every INTEGER NOT NULL DEFAULT 0;
