-- LINE rich menus managed from tsunagu (issue 12 items 3 and 11): staff upload the image and draw
-- the tappable areas here; a job creates the menu on LINE (its id in line_rich_menu_id). LINE's
-- menus cannot be changed once created, so an edit after publishing goes back to draft and the
-- next publish makes a new LINE menu, moves everyone linked to the old one across with one batch
-- request and deletes the old one.
CREATE TABLE rich_menus (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    name TEXT NOT NULL,
    chat_bar_text TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    -- The image as uploaded (PNG or JPEG, at most 1 MB: LINE's limit), kept to publish again.
    image BLOB,
    image_type TEXT,
    -- JSON array of LINE area objects (bounds + action), as channels::line::richmenu::Area.
    areas TEXT NOT NULL DEFAULT '[]',
    -- The LINE rich menu alias other menus' tabs (richmenuswitch) switch to; a-z0-9_-, ≤ 32.
    alias_id TEXT,
    -- draft → publishing → published, or failed with failure_code (a core Code) shown to staff.
    state TEXT NOT NULL CHECK (state IN ('draft', 'publishing', 'published', 'failed')),
    failure_code TEXT,
    line_rich_menu_id TEXT,
    -- A LINE menu replaced by an edit, moved from and deleted by the next publish.
    replaced_line_rich_menu_id TEXT,
    -- The channel's default menu (at most one per channel), shown to everyone without a link.
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX rich_menus_channel_idx ON rich_menus(channel_id);
CREATE UNIQUE INDEX rich_menus_channel_alias_key ON rich_menus(channel_id, alias_id)
    WHERE alias_id IS NOT NULL;
CREATE UNIQUE INDEX rich_menus_channel_default_key ON rich_menus(channel_id)
    WHERE is_default = 1;

-- "Patients with tag X get menu Y": the first rule (lowest priority number) whose tag a patient
-- has decides; a patient no rule matches sees the channel's default.
CREATE TABLE rich_menu_rules (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    tag TEXT NOT NULL,
    rich_menu_id TEXT NOT NULL REFERENCES rich_menus(id),
    priority INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT rich_menu_rules_channel_tag_key UNIQUE (channel_id, tag)
);

-- What LINE was last told each person's menu is (NULL: unlinked, they see the default), so a
-- tag change calls LINE only when the menu really changes.
CREATE TABLE rich_menu_links (
    identity_id TEXT PRIMARY KEY REFERENCES channel_identities(id),
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    rich_menu_id TEXT REFERENCES rich_menus(id),
    updated_at INTEGER NOT NULL
);

-- Batch control requests (POST /v2/bot/richmenu/batch) and their progress as LINE reports it.
CREATE TABLE rich_menu_batches (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    rich_menu_id TEXT NOT NULL REFERENCES rich_menus(id),
    request_id TEXT NOT NULL,
    operations INTEGER NOT NULL,
    -- ongoing, succeeded or failed (LINE's phases).
    phase TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    completed_at INTEGER
);
CREATE INDEX rich_menu_batches_menu_idx ON rich_menu_batches(rich_menu_id);
