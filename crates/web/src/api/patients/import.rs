//! `POST /api/v1/patients/import`: a CSV of patients, as a dry run (the default) or applied.
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_contacts::import::{self, ApplyError, Author, ImportPlan};
use tsunagu_core::{Code, Permission, Refusal};
use utoipa::{IntoParams, ToSchema};

use super::{clinic_today, InvalidDetail};
use crate::api::auth::{audit_read, ApiAuth, Event};
use crate::api::extract::{ApiQuery, ErrorBody};
use crate::api::idempotent::IdempotencyKey;
use crate::api::{read_conn, refusal};
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true` (the default): report what would happen and change nothing.
    pub dry_run: Option<bool>,
    /// The `token` of the dry run being confirmed: the import is refused (409) if the file or
    /// the records changed since.
    pub plan_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CellErrorOut {
    /// The column as written in the file's header (empty for the file or row as a whole).
    pub column: String,
    /// Stable key: `invalid_phone_number`, `invalid_birth_date`, `duplicate_card_number_in_file`,
    /// `unknown_column`, …
    pub code: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportRow {
    /// The file's line (the header is line 1).
    pub line: u64,
    /// `create`, `update` (matched by card number) or `error`.
    pub action: String,
    pub patient_id: Option<String>,
    pub name: String,
    pub errors: Vec<CellErrorOut>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportSummary {
    pub rows: usize,
    pub create: usize,
    pub update: usize,
    pub error: usize,
}

#[derive(Serialize, ToSchema)]
pub struct ImportOut {
    pub dry_run: bool,
    /// True when the records were written.
    pub applied: bool,
    /// `UTF-8`, `Shift_JIS` or `UTF-16LE`.
    pub encoding: Option<String>,
    /// Pass as `plan_token` to apply exactly this plan.
    pub token: String,
    pub summary: ImportSummary,
    pub file_errors: Vec<CellErrorOut>,
    pub rows: Vec<ImportRow>,
}

/// A refused apply: the usual envelope plus the plan that explains it.
#[derive(Serialize, ToSchema)]
pub struct ImportRefused {
    pub error: InvalidDetail,
    pub plan: ImportOut,
}

fn cells(e: Vec<import::CellError>) -> Vec<CellErrorOut> {
    e.into_iter()
        .map(|c| CellErrorOut {
            column: c.column,
            code: c.code.to_string(),
            message: c.message,
        })
        .collect()
}

fn out(p: ImportPlan, dry_run: bool, applied: bool) -> ImportOut {
    ImportOut {
        dry_run,
        applied,
        encoding: p.encoding.map(str::to_string),
        token: p.token,
        summary: ImportSummary {
            rows: p.summary.rows,
            create: p.summary.create,
            update: p.summary.update,
            error: p.summary.error,
        },
        file_errors: cells(p.file_errors),
        rows: p
            .rows
            .into_iter()
            .map(|r| ImportRow {
                line: r.line,
                action: r.action.to_string(),
                patient_id: r.patient_id,
                name: r.name,
                errors: cells(r.errors),
            })
            .collect(),
    }
}

/// The error envelope with the plan beside it, so the client sees which rows to fix.
fn refused(r: Refusal, p: ImportPlan) -> Response {
    let error = InvalidDetail {
        code: r.code.to_string(),
        message: refusal::message(&r),
        fields: Vec::new(),
    };
    (
        refusal::status(r.code),
        Json(ImportRefused {
            error,
            plan: out(p, false, false),
        }),
    )
        .into_response()
}

/// Room for a clinic's whole patient list: a little over the file limit, so a file just too
/// large gets the import's own error.
pub const BODY_LIMIT: usize = import::MAX_BYTES + 1024;

/// Import patients from CSV.
///
/// Scope: `administer` (token scope `admin`). The body is the CSV file (`text/csv`; UTF-8 with
/// or without BOM, or the Shift_JIS Excel writes in Japan). Headers in Japanese or English
/// (氏名/name, フリガナ/kana, 生年月日/birth_date, 性別/sex, 電話番号/phone, メール/email,
/// 診察券番号/card_number, タグ/tags, 言語/language, 連絡方法/preferred_channel, 備考/note) and
/// custom fields by key or label. A row whose card number is on file updates that record
/// (blank cells change nothing; tags are added), any other row creates one. With `dry_run=true`
/// (the default) nothing changes and every bad row is reported; with `dry_run=false` the file
/// is written in one transaction only when no row is refused (else 422 `import_has_errors`).
/// Audited as `api.patient.import_plan` (patients matched) or `patient.import` (written).
#[utoipa::path(
    post,
    path = "/api/v1/patients/import",
    tag = "patients",
    params(ImportQuery, IdempotencyKey),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses(
        (status = 200, description = "The plan (dry run) or the import as applied", body = ImportOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 409, description = "`import_plan_changed`: the plan differs from `plan_token`", body = ImportRefused),
        (status = 422, description = "`import_has_errors`: nothing was written", body = ImportRefused),
    )
)]
pub async fn import(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require(Permission::Administer)?;
    let today = clinic_today(&state, &auth.clinic).await?;
    if q.dry_run.unwrap_or(true) {
        let mut conn = read_conn(&state).await?;
        let plan = import::plan(&mut conn, &auth.clinic, &body, today).await?;
        drop(conn);
        let matched: Vec<&str> = plan
            .rows
            .iter()
            .filter_map(|r| r.patient_id.as_deref())
            .collect();
        let e = Event {
            action: "api.patient.import_plan",
            subject_type: "patient",
            subject_ids: &matched,
        };
        audit_read(&state, &auth, &ip, e).await?;
        // A plan changes nothing and names patients: not kept for Idempotency-Key repeats.
        let mut res = Json(out(plan, true, false)).into_response();
        res.extensions_mut()
            .insert(crate::api::idempotent::NothingToReplay);
        return Ok(res);
    }
    let source_ip = ip.as_string();
    let by = Author {
        actor: &auth.actor,
        source_ip: source_ip.as_deref(),
    };
    match import::apply(
        &state.db,
        &auth.clinic,
        &body,
        q.plan_token.as_deref(),
        by,
        today,
        state.now_ms(),
    )
    .await
    {
        Ok(done) => Ok(Json(out(done.plan, false, true)).into_response()),
        Err(ApplyError::Invalid(p)) => {
            let why = "Some rows are refused; nothing was written. Fix them and import again.";
            Ok(refused(Refusal::new(Code::ImportHasErrors).detail(why), *p))
        }
        Err(ApplyError::Changed(p)) => {
            let why =
                "The file or the clinic's records changed since the dry run; nothing was written.";
            Ok(refused(
                Refusal::new(Code::ImportPlanChanged).detail(why),
                *p,
            ))
        }
        Err(ApplyError::Internal(e)) => Err(e.into()),
    }
}
