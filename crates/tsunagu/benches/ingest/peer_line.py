"""The LINE peer for `cargo bench -p tsunagu --bench ingest`: what a clinic would write first
with LINE's own Python SDK (line-bot-sdk v3) and FastAPI, served by uvicorn.

It does what the SDK's FastAPI example does -- `WebhookParser` checks `X-Line-Signature` with the
channel secret and turns the body into event objects (400 on a bad signature) -- and, instead
of echoing, stores every event in SQLite the way a naive app would: one connection, WAL,
synchronous=FULL, one transaction committed per request, the event's id as the dedupe key.
No patients, conversations or jobs. The bench starts it (`PEER_PORT`, `PEER_DB`,
`PEER_CHANNEL_SECRET`) and counts its rows afterwards.
"""

import os
import sqlite3
import time

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import PlainTextResponse
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhooks import MessageEvent, TextMessageContent

parser = WebhookParser(os.environ["PEER_CHANNEL_SECRET"])

db = sqlite3.connect(os.environ["PEER_DB"], isolation_level=None, check_same_thread=False)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = FULL")
db.execute(
    """CREATE TABLE IF NOT EXISTS line_events (
        webhook_event_id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        user_id TEXT,
        text TEXT,
        body TEXT NOT NULL,
        received_at INTEGER NOT NULL)"""
)

app = FastAPI()


@app.post("/callback", response_class=PlainTextResponse)
async def callback(request: Request, x_line_signature: str = Header(default="")):
    body = (await request.body()).decode("utf-8")
    try:
        events = parser.parse(body, x_line_signature)
    except InvalidSignatureError:
        raise HTTPException(status_code=400, detail="Invalid signature")
    now = int(time.time() * 1000)
    rows = []
    for event in events:
        text = None
        if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            text = event.message.text
        user_id = getattr(event.source, "user_id", None) if event.source else None
        rows.append((event.webhook_event_id, event.type, user_id, text, event.to_json(), now))
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany(
            "INSERT INTO line_events VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (webhook_event_id) DO NOTHING",
            rows,
        )
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise
    return "OK"


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(os.environ["PEER_PORT"]),
        log_level="warning",
        access_log=False,
    )
