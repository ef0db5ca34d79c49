//! The help desk side of the web backend (R18).

use alliance_protocol::InstitutionId;
use alliance_web::backend::{
    Account, AccountRole, ActionFailure, HelpBackend, HelpForm, HelpNeedForm, HelpPageView,
    HelpQuery, HelpStepView, HelpView,
};

use super::{
    WebBackend,
    board::{draft_of, price_tier, refusal},
    booking::invalid,
};
use crate::help::{Actor, HelpError, HelpRequest};

fn failure(e: HelpError) -> ActionFailure {
    match e {
        HelpError::Invalid { field, message } => invalid(field, &message),
        HelpError::NotFound(_) => ActionFailure::NotFound,
        HelpError::NotYours(_) => ActionFailure::Forbidden,
        HelpError::Closed => ActionFailure::Refused {
            code: "request_closed".into(),
            message: e.to_string(),
        },
        HelpError::Full(message) => ActionFailure::Refused {
            code: "full".into(),
            message,
        },
        HelpError::Board(e) => refusal(e),
        HelpError::Store(e) => ActionFailure::Internal(e.to_string()),
    }
}

fn actor(account: &Account) -> Actor<'_> {
    Actor {
        username: &account.username,
        name: if account.display_name.is_empty() {
            &account.username
        } else {
            &account.display_name
        },
        expert: account.role == AccountRole::ServiceExpert,
    }
}

fn view(request: &HelpRequest, viewer: &Account) -> HelpView {
    HelpView {
        id: request.id.clone(),
        asker_name: request.asker_name.clone(),
        text: request.text.clone(),
        field: request.field.clone(),
        created_at: request.created_at.0,
        state: request.state.as_str().to_owned(),
        expert_name: request
            .expert
            .as_ref()
            .map(|(_, name)| name.clone())
            .unwrap_or_default(),
        mine: request.asker == viewer.username,
        taken_by_me: request
            .expert
            .as_ref()
            .is_some_and(|(e, _)| *e == viewer.username),
        steps: request
            .steps
            .iter()
            .map(|s| HelpStepView {
                kind: s.kind.as_str().to_owned(),
                by: s.by.clone(),
                text: s.text.clone(),
                at: s.at.0,
                need_id: s.need_id.clone(),
                referred_to: s
                    .referred_to
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

fn page(requests: Vec<HelpRequest>, viewer: &Account, query: &HelpQuery) -> HelpPageView {
    HelpPageView {
        total: requests.len(),
        offset: query.offset,
        items: requests
            .iter()
            .skip(query.offset)
            .take(query.limit())
            .map(|r| view(r, viewer))
            .collect(),
    }
}

impl HelpBackend for WebBackend {
    async fn my_help_requests(&self, account: &Account, query: &HelpQuery) -> HelpPageView {
        let requests = self.help.of_asker(&account.username).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read requests for help");
            Vec::new()
        });
        page(requests, account, query)
    }

    async fn help_queue(
        &self,
        account: &Account,
        query: &HelpQuery,
    ) -> Result<HelpPageView, ActionFailure> {
        if account.role != AccountRole::ServiceExpert {
            return Err(ActionFailure::Forbidden);
        }
        let (total, requests) = self
            .help
            .queue(query.offset, query.limit())
            .map_err(|e| ActionFailure::Internal(e.to_string()))?;
        Ok(HelpPageView {
            total,
            offset: query.offset,
            items: requests.iter().map(|r| view(r, account)).collect(),
        })
    }

    async fn help_request(&self, account: &Account, id: &str) -> Result<HelpView, ActionFailure> {
        let request = self.help.request(actor(account), id).map_err(failure)?;
        Ok(view(&request, account))
    }

    async fn ask_help(&self, account: &Account, form: HelpForm) -> Result<HelpView, ActionFailure> {
        let request = self
            .help
            .ask(actor(account), &form.text, &form.field)
            .await
            .map_err(failure)?;
        Ok(view(&request, account))
    }

    async fn take_help(&self, account: &Account, id: &str) -> Result<HelpView, ActionFailure> {
        let request = self.help.take(actor(account), id).await.map_err(failure)?;
        Ok(view(&request, account))
    }

    async fn write_help(
        &self,
        account: &Account,
        id: &str,
        text: &str,
    ) -> Result<HelpView, ActionFailure> {
        let request = self
            .help
            .write(actor(account), id, text)
            .await
            .map_err(failure)?;
        Ok(view(&request, account))
    }

    async fn post_help_need(
        &self,
        account: &Account,
        id: &str,
        form: HelpNeedForm,
    ) -> Result<HelpView, ActionFailure> {
        // The need is the asker's: priced at their tier, posted under their name.
        let asker = self
            .help
            .request(actor(account), id)
            .map_err(failure)?
            .asker;
        let asker = self
            .accounts
            .get(&asker)
            .map_err(|e| ActionFailure::Internal(e.to_string()))?
            .ok_or(ActionFailure::NotFound)?;
        let tier = price_tier(&asker)?;
        let referred_to = match form.referred_to.trim() {
            "" => None,
            id => Some(
                id.parse::<InstitutionId>()
                    .map_err(|e| invalid("referred_to", &e.to_string()))?,
            ),
        };
        let draft = draft_of(&form.need, referred_to)?;
        let (request, _) = self
            .help
            .post_need(actor(account), id, tier, draft)
            .await
            .map_err(failure)?;
        Ok(view(&request, account))
    }

    async fn close_help(
        &self,
        account: &Account,
        id: &str,
        reason: &str,
    ) -> Result<HelpView, ActionFailure> {
        let request = self
            .help
            .close(actor(account), id, reason)
            .await
            .map_err(failure)?;
        Ok(view(&request, account))
    }

    async fn expert_fields(&self, account: &Account) -> Result<Vec<String>, ActionFailure> {
        if account.role != AccountRole::ServiceExpert {
            return Err(ActionFailure::Forbidden);
        }
        self.help
            .fields_of(&account.username)
            .map_err(|e| ActionFailure::Internal(e.to_string()))
    }

    async fn set_expert_fields(
        &self,
        account: &Account,
        fields: Vec<String>,
    ) -> Result<Vec<String>, ActionFailure> {
        self.help
            .set_fields(actor(account), fields)
            .await
            .map_err(failure)
    }
}
