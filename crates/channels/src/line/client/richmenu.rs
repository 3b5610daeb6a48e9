//! The rich menu endpoints of the Messaging API. Every body is checked against LINE's limits
//! (`line::richmenu`) before it leaves; a check that fails sends nothing.
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use super::outcome::{classify, Answer};
use super::{decode, segment, LineClient, SendError};
use crate::line::richmenu::{
    check_alias_id, check_batch, check_image, BatchOperation, BatchProgress, RichMenu,
    RichMenuError, RichMenuInfo, Size, MAX_BULK_USERS,
};

/// A rich menu call refused before sending (LINE's limits) or by LINE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RichMenuCallError {
    #[error("not sent: {0}")]
    Invalid(#[from] RichMenuError),
    #[error(transparent)]
    Line(#[from] SendError),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RichMenuId {
    rich_menu_id: String,
}

impl LineClient {
    /// LINE doc: "Create rich menu" (`POST /v2/bot/richmenu`) → the new `richMenuId`.
    /// Limited by LINE to 100 creations and deletions an hour.
    pub async fn create_rich_menu(&self, menu: &RichMenu) -> Result<String, RichMenuCallError> {
        menu.check()?;
        let url = format!("{}/v2/bot/richmenu", self.api_base);
        let answer = self
            .call("richmenu_create", self.http.post(url).json(menu))
            .await?;
        Ok(decode::<RichMenuId>(&answer.body)?.rich_menu_id)
    }

    /// LINE doc: "Validate rich menu object" (`POST /v2/bot/richmenu/validate`).
    pub async fn validate_rich_menu(&self, menu: &RichMenu) -> Result<(), RichMenuCallError> {
        menu.check()?;
        let url = format!("{}/v2/bot/richmenu/validate", self.api_base);
        self.call("richmenu_validate", self.http.post(url).json(menu))
            .await?;
        Ok(())
    }

    /// LINE doc: "Upload rich menu image" (`POST api-data.line.me/v2/bot/richmenu/{id}/content`):
    /// JPEG or PNG, ≤ 1 MB, the menu's size. An image can be uploaded once per menu.
    pub async fn upload_rich_menu_image(
        &self,
        rich_menu_id: &str,
        size: Size,
        image: Bytes,
    ) -> Result<(), RichMenuCallError> {
        let info = check_image(&image, size)?;
        let url = format!(
            "{}/v2/bot/richmenu/{}/content",
            self.api_data_base,
            segment(rich_menu_id)?
        );
        let req = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, info.content_type)
            .body(image);
        self.call("richmenu_upload", req).await?;
        Ok(())
    }

    /// LINE doc: "Delete rich menu" (`DELETE /v2/bot/richmenu/{id}`).
    pub async fn delete_rich_menu(&self, rich_menu_id: &str) -> Result<(), SendError> {
        let url = format!(
            "{}/v2/bot/richmenu/{}",
            self.api_base,
            segment(rich_menu_id)?
        );
        self.call("richmenu_delete", self.http.delete(url)).await?;
        Ok(())
    }

    /// LINE doc: "Get rich menu list" (`GET /v2/bot/richmenu/list`).
    pub async fn list_rich_menus(&self) -> Result<Vec<RichMenuInfo>, SendError> {
        #[derive(Deserialize)]
        struct List {
            richmenus: Vec<RichMenuInfo>,
        }
        let url = format!("{}/v2/bot/richmenu/list", self.api_base);
        let answer = self.call("richmenu_list", self.http.get(url)).await?;
        Ok(decode::<List>(&answer.body)?.richmenus)
    }

    /// LINE doc: "Set default rich menu" (`POST /v2/bot/user/all/richmenu/{id}`).
    pub async fn set_default_rich_menu(&self, rich_menu_id: &str) -> Result<(), SendError> {
        let url = format!(
            "{}/v2/bot/user/all/richmenu/{}",
            self.api_base,
            segment(rich_menu_id)?
        );
        self.call("richmenu_default", self.http.post(url)).await?;
        Ok(())
    }

    /// LINE doc: "Cancel default rich menu" (`DELETE /v2/bot/user/all/richmenu`).
    pub async fn cancel_default_rich_menu(&self) -> Result<(), SendError> {
        let url = format!("{}/v2/bot/user/all/richmenu", self.api_base);
        self.call("richmenu_default_cancel", self.http.delete(url))
            .await?;
        Ok(())
    }

    /// LINE doc: "Link rich menu to user" (`POST /v2/bot/user/{userId}/richmenu/{id}`).
    pub async fn link_rich_menu(&self, user_id: &str, rich_menu_id: &str) -> Result<(), SendError> {
        let url = format!(
            "{}/v2/bot/user/{}/richmenu/{}",
            self.api_base,
            segment(user_id)?,
            segment(rich_menu_id)?
        );
        self.call("richmenu_link", self.http.post(url)).await?;
        Ok(())
    }

    /// LINE doc: "Unlink rich menu from user" (`DELETE /v2/bot/user/{userId}/richmenu`): the
    /// user sees the default menu again.
    pub async fn unlink_rich_menu(&self, user_id: &str) -> Result<(), SendError> {
        let url = format!(
            "{}/v2/bot/user/{}/richmenu",
            self.api_base,
            segment(user_id)?
        );
        self.call("richmenu_unlink", self.http.delete(url)).await?;
        Ok(())
    }

    /// LINE doc: "Link rich menu to multiple users" (`POST /v2/bot/richmenu/bulk/link`, 1–500
    /// users, answered 202: applied shortly after).
    pub async fn bulk_link_rich_menu(
        &self,
        rich_menu_id: &str,
        user_ids: &[String],
    ) -> Result<(), RichMenuCallError> {
        if user_ids.is_empty() || user_ids.len() > MAX_BULK_USERS {
            return Err(RichMenuError::TooMany {
                count: user_ids.len(),
                max: MAX_BULK_USERS,
            }
            .into());
        }
        let url = format!("{}/v2/bot/richmenu/bulk/link", self.api_base);
        let req = self
            .http
            .post(url)
            .json(&json!({ "richMenuId": rich_menu_id, "userIds": user_ids }));
        self.accepted("richmenu_bulk_link", req).await?;
        Ok(())
    }

    /// LINE doc: "Create rich menu alias" (`POST /v2/bot/richmenu/alias`).
    pub async fn create_rich_menu_alias(
        &self,
        alias_id: &str,
        rich_menu_id: &str,
    ) -> Result<(), RichMenuCallError> {
        check_alias_id(alias_id)?;
        let url = format!("{}/v2/bot/richmenu/alias", self.api_base);
        let req = self
            .http
            .post(url)
            .json(&json!({ "richMenuAliasId": alias_id, "richMenuId": rich_menu_id }));
        self.call("richmenu_alias_create", req).await?;
        Ok(())
    }

    /// LINE doc: "Update rich menu alias" (`POST /v2/bot/richmenu/alias/{aliasId}`).
    pub async fn update_rich_menu_alias(
        &self,
        alias_id: &str,
        rich_menu_id: &str,
    ) -> Result<(), RichMenuCallError> {
        check_alias_id(alias_id)?;
        let url = format!(
            "{}/v2/bot/richmenu/alias/{}",
            self.api_base,
            segment(alias_id)?
        );
        let req = self
            .http
            .post(url)
            .json(&json!({ "richMenuId": rich_menu_id }));
        self.call("richmenu_alias_update", req).await?;
        Ok(())
    }

    /// LINE doc: "Delete rich menu alias" (`DELETE /v2/bot/richmenu/alias/{aliasId}`).
    pub async fn delete_rich_menu_alias(&self, alias_id: &str) -> Result<(), RichMenuCallError> {
        check_alias_id(alias_id)?;
        let url = format!(
            "{}/v2/bot/richmenu/alias/{}",
            self.api_base,
            segment(alias_id)?
        );
        self.call("richmenu_alias_delete", self.http.delete(url))
            .await?;
        Ok(())
    }

    /// LINE doc: "Replace or unlink the linked rich menus in batches" (`POST
    /// /v2/bot/richmenu/batch`, ≤ 1,000 operations, 202). Returns the request id that
    /// [`LineClient::rich_menu_batch_progress`] asks about. `resume_key` lets LINE resume a
    /// batch that failed part way instead of starting again.
    pub async fn rich_menu_batch(
        &self,
        operations: &[BatchOperation],
        resume_key: Option<&str>,
    ) -> Result<String, RichMenuCallError> {
        check_batch(operations)?;
        let mut body = json!({ "operations": operations });
        if let Some(key) = resume_key {
            body["resumeRequestKey"] = json!(key);
        }
        let url = format!("{}/v2/bot/richmenu/batch", self.api_base);
        let answer = self
            .accepted("richmenu_batch", self.http.post(url).json(&body))
            .await?;
        answer.header("x-line-request-id").ok_or_else(|| {
            RichMenuCallError::Line(SendError::Unknown {
                message: "LINE accepted the batch without a request id".into(),
            })
        })
    }

    /// LINE doc: "Get the status of Replace or unlink a linked rich menus in batches"
    /// (`GET /v2/bot/richmenu/progress/batch?requestId=`).
    pub async fn rich_menu_batch_progress(
        &self,
        request_id: &str,
    ) -> Result<BatchProgress, SendError> {
        let url = format!("{}/v2/bot/richmenu/progress/batch", self.api_base);
        let req = self.http.get(url).query(&[("requestId", request_id)]);
        let answer = self.call("richmenu_batch_progress", req).await?;
        decode(&answer.body)
    }

    /// A call LINE answers 202 Accepted (bulk link, batch): 202 is success here, not "not ready".
    async fn accepted(
        &self,
        op: &'static str,
        req: reqwest::RequestBuilder,
    ) -> Result<Answer, SendError> {
        let answer = self.execute(op, req).await?;
        if answer.status.as_u16() == 202 || answer.status.as_u16() == 200 {
            Ok(answer)
        } else {
            classify(answer)
        }
    }
}
