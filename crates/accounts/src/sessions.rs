//! Staff sessions in the database (so several instances share them). The cookie carries a
//! 32-byte random token; only its SHA-256 is stored, so a leaked database cannot be replayed as
//! cookies. A session is void when idle too long, when created before the staff member's
//! `sessions_valid_after` ("sign out everywhere"), when the account is disabled or when the
//! membership in its clinic is gone.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{ClinicId, Role, StaffId};
use tsunagu_store::Db;

use crate::staff::{self, StaffRow};
use tsunagu_privacy::crypto::{random_token, sha256_hex};

/// `last_active_at` is written at most this often, to spare the database on busy pages.
pub const TOUCH_EVERY_MS: i64 = 30_000;

#[derive(Clone, Debug, FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub staff_id: String,
    pub clinic_id: Option<String>,
    pub csrf_token: String,
    pub mfa_passed: i64,
    pub created_at: i64,
    pub last_active_at: i64,
    pub source_ip: Option<String>,
}

impl SessionRow {
    pub fn staff_id(&self) -> StaffId {
        StaffId::from_db(self.staff_id.clone())
    }
    pub fn clinic_id(&self) -> Option<ClinicId> {
        self.clinic_id.clone().map(ClinicId::from_db)
    }
    pub fn mfa_passed(&self) -> bool {
        self.mfa_passed != 0
    }
}

/// What the browser gets: the token for the cookie and the CSRF token for forms.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
}

const COLS: &str =
    "id_hash, staff_id, clinic_id, csrf_token, mfa_passed, created_at, last_active_at, source_ip";

pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Always a fresh random id: a session id from before sign-in is never carried over.
pub async fn create(
    conn: &mut AnyConnection,
    staff: &StaffId,
    clinic: Option<&ClinicId>,
    mfa_passed: bool,
    source_ip: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<NewSession> {
    let token = random_token(32);
    let csrf_token = random_token(32);
    sqlx::query(
        "INSERT INTO sessions (id_hash, staff_id, clinic_id, csrf_token, mfa_passed, created_at, last_active_at, source_ip)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(token_hash(&token))
    .bind(staff.as_str())
    .bind(clinic.map(|c| c.as_str().to_string()))
    .bind(&csrf_token)
    .bind(mfa_passed as i64)
    .bind(now_ms)
    .bind(source_ip.map(str::to_string))
    .execute(conn)
    .await
    .context("creating the session")?;
    Ok(NewSession { token, csrf_token })
}

/// The session for a cookie token, whatever its state.
pub async fn find(conn: &mut AnyConnection, token: &str) -> anyhow::Result<Option<SessionRow>> {
    sqlx::query_as(&format!("SELECT {COLS} FROM sessions WHERE id_hash = $1"))
        .bind(token_hash(token))
        .fetch_optional(conn)
        .await
        .context("looking up the session")
}

pub async fn delete(conn: &mut AnyConnection, id_hash: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(conn)
        .await
        .context("ending the session")?;
    Ok(())
}

/// Ends every session of the staff member and voids any that another instance is still
/// about to read ("sign out everywhere").
pub async fn sign_out_everywhere(
    conn: &mut AnyConnection,
    staff: &StaffId,
    now_ms: i64,
) -> anyhow::Result<()> {
    staff::bump_sessions_valid_after(&mut *conn, staff, now_ms).await?;
    crate::devices::forget_all(&mut *conn, staff).await?;
    sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
        .bind(staff.as_str())
        .execute(conn)
        .await
        .context("ending all sessions of the staff member")?;
    Ok(())
}

pub async fn set_clinic(
    conn: &mut AnyConnection,
    id_hash: &str,
    clinic: &ClinicId,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE sessions SET clinic_id = $1 WHERE id_hash = $2")
        .bind(clinic.as_str())
        .bind(id_hash)
        .execute(conn)
        .await
        .context("switching the session's clinic")?;
    Ok(())
}

pub async fn touch(conn: &mut AnyConnection, id_hash: &str, now_ms: i64) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE sessions SET last_active_at = $1 WHERE id_hash = $2 AND last_active_at < $1",
    )
    .bind(now_ms)
    .bind(id_hash)
    .execute(conn)
    .await
    .context("refreshing the session")?;
    Ok(())
}

/// Removes sessions idle longer than `idle_ms` (housekeeping; they are void anyway).
pub async fn purge_idle(
    conn: &mut AnyConnection,
    idle_ms: i64,
    now_ms: i64,
) -> anyhow::Result<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE last_active_at < $1")
        .bind(now_ms - idle_ms)
        .execute(conn)
        .await
        .context("removing idle sessions")?;
    Ok(r.rows_affected())
}

/// A session that may act: second factor passed, membership present.
#[derive(Clone, Debug)]
pub struct ActiveSession {
    pub session: SessionRow,
    pub staff: StaffRow,
    pub clinic_id: ClinicId,
    /// Read from `memberships` on every request.
    pub role: Role,
}

/// A session between password and second factor.
#[derive(Clone, Debug)]
pub struct PendingSession {
    pub session: SessionRow,
    pub staff: StaffRow,
}

#[derive(Clone, Debug)]
pub enum Resolved {
    /// No such session (never existed, signed out, or removed).
    Missing,
    /// Idle longer than the timeout; it has been removed.
    Idle,
    /// Signed out everywhere, account disabled or membership gone; it has been removed.
    Void,
    /// Password checked, second factor still to come.
    PendingMfa(Box<PendingSession>),
    Active(Box<ActiveSession>),
}

/// Checks the session behind a cookie token. `live` marks requests that must not count as
/// activity (the SSE stream): they neither refresh the idle clock nor keep a session alive.
pub async fn resolve(
    db: &Db,
    token: &str,
    now_ms: i64,
    idle_ms: i64,
    live: bool,
) -> anyhow::Result<Resolved> {
    let mut conn = db.pool().acquire().await.context("reading the session")?;
    let Some(s) = find(&mut conn, token).await? else {
        return Ok(Resolved::Missing);
    };
    if now_ms - s.last_active_at > idle_ms {
        drop(conn);
        remove(db, &s.id_hash).await?;
        return Ok(Resolved::Idle);
    }
    let st = staff::by_id(&mut conn, &s.staff_id()).await?;
    let Some(st) = st.filter(|st| !st.is_disabled() && s.created_at >= st.sessions_valid_after)
    else {
        drop(conn);
        remove(db, &s.id_hash).await?;
        return Ok(Resolved::Void);
    };
    if !s.mfa_passed() {
        return Ok(Resolved::PendingMfa(Box::new(PendingSession {
            session: s,
            staff: st,
        })));
    }
    let role = match s.clinic_id() {
        Some(c) => staff::role_in(&mut conn, &st.staff_id(), &c)
            .await?
            .map(|r| (c, r)),
        None => None,
    };
    drop(conn);
    let Some((clinic_id, role)) = role else {
        remove(db, &s.id_hash).await?;
        return Ok(Resolved::Void);
    };
    if !live && now_ms - s.last_active_at >= TOUCH_EVERY_MS {
        let mut tx = db.begin().await?;
        touch(tx.conn(), &s.id_hash, now_ms).await?;
        tx.commit().await?;
    }
    Ok(Resolved::Active(Box::new(ActiveSession {
        session: s,
        staff: st,
        clinic_id,
        role,
    })))
}

async fn remove(db: &Db, id_hash: &str) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    delete(tx.conn(), id_hash).await?;
    tx.commit().await
}
