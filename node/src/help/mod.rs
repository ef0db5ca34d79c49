//! The help desk (一站式服务, R18): a firm that does not know which instrument or
//! institution could do its test asks in plain words at its home node; one of the
//! institution's service experts takes the request, writes to the firm, and posts the
//! need for it — referring it to the member best placed to do it, whose managers are
//! told at once. Every step is kept on the request and shown to the firm.
//!
//! Experts are this node's accounts with the service-expert role (the province's node
//! keeps the province's team); each says which fields they know. Only the expert who
//! took a request acts on it, and nobody but experts takes one.

mod store;

use std::sync::Arc;

use alliance_protocol::{InstitutionId, Need, UnixTime, UserTier};
use serde::{Deserialize, Serialize};

use crate::{
    board::{Board, BoardError, NeedDraft},
    notify::{Facts, Notice, NoticeKind, Notices, Recipients},
    store::{Batch, Store, StoreError},
};

/// Requests one person may have open at a time.
pub const MAX_OPEN_PER_ASKER: usize = 5;
/// Requests one person may ask in a day (asking and closing in a loop grows little).
pub const MAX_PER_ASKER_PER_DAY: usize = 10;
/// Longest request or message, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// Shortest request, in characters: enough to say what is wanted.
pub const MIN_REQUEST_CHARS: usize = 10;
/// Most messages and steps on one request.
pub const MAX_STEPS: usize = 200;
/// Most fields an expert names.
pub const MAX_FIELDS: usize = 10;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HelpState {
    /// Waiting for an expert.
    Open,
    /// An expert is on it.
    Taken,
    /// Done: the need is posted, or the asker or the expert closed it.
    Closed,
}

impl HelpState {
    pub fn as_str(self) -> &'static str {
        match self {
            HelpState::Open => "open",
            HelpState::Taken => "taken",
            HelpState::Closed => "closed",
        }
    }
}

/// What happened on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Asked,
    Taken,
    /// The expert wrote to the asker, or the asker answered.
    Message,
    /// The expert posted the need for the asker (perhaps referred to a member).
    NeedPosted,
    Closed,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Asked => "asked",
            StepKind::Taken => "taken",
            StepKind::Message => "message",
            StepKind::NeedPosted => "need_posted",
            StepKind::Closed => "closed",
        }
    }
}

/// One step, as the asker sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpStep {
    pub kind: StepKind,
    /// Who did it (display name).
    pub by: String,
    pub text: String,
    pub at: UnixTime,
    /// With [`StepKind::NeedPosted`]: the need's id, and the member it was referred to.
    #[serde(default)]
    pub need_id: String,
    #[serde(default)]
    pub referred_to: Option<InstitutionId>,
}

/// A request for help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpRequest {
    pub id: String,
    pub asker: String,
    pub asker_name: String,
    pub text: String,
    /// A field the asker thinks it is in (a classification code), if any.
    pub field: String,
    pub created_at: UnixTime,
    pub state: HelpState,
    /// The expert who took it (username, display name).
    pub expert: Option<(String, String)>,
    pub steps: Vec<HelpStep>,
}

impl HelpRequest {
    fn step(&mut self, kind: StepKind, by: &str, text: &str) -> Result<(), HelpError> {
        self.push(HelpStep {
            kind,
            by: by.to_owned(),
            text: text.to_owned(),
            at: UnixTime::now(),
            need_id: String::new(),
            referred_to: None,
        })
    }

    fn push(&mut self, step: HelpStep) -> Result<(), HelpError> {
        if self.steps.len() >= MAX_STEPS {
            return Err(HelpError::Full(format!(
                "a request keeps at most {MAX_STEPS} steps: post the need or close it"
            )));
        }
        self.steps.push(step);
        Ok(())
    }
}

/// Who acts: a username, their display name, and whether they are a service expert.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub expert: bool,
}

/// Why a help-desk operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum HelpError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no request {0}")]
    NotFound(String),
    /// Outside the actor's role: not an expert, or another expert's request.
    #[error("{0}")]
    NotYours(String),
    #[error("the request is closed")]
    Closed,
    #[error("{0}")]
    Full(String),
    #[error(transparent)]
    Board(#[from] BoardError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> HelpError {
    HelpError::Invalid {
        field,
        message: message.into(),
    }
}

/// Whether `actor` acts on `request` as the expert who took it (true) or as its asker
/// (false); refused for anyone else, and on a closed request.
fn party(request: &HelpRequest, actor: Actor<'_>, what: &str) -> Result<bool, HelpError> {
    let by_expert = actor.expert
        && request
            .expert
            .as_ref()
            .is_some_and(|(e, _)| e == actor.username);
    if !by_expert && request.asker != actor.username {
        return Err(HelpError::NotYours(format!(
            "only the asker and the expert who took the request {what}"
        )));
    }
    if request.state == HelpState::Closed {
        return Err(HelpError::Closed);
    }
    Ok(by_expert)
}

fn checked_text(field: &'static str, text: &str, min: usize) -> Result<String, HelpError> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars < min {
        return Err(invalid(field, format!("at least {min} characters")));
    }
    if chars > MAX_TEXT_CHARS {
        return Err(invalid(
            field,
            format!("at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// The help desk. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HelpDesk {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    board: Board,
    notices: Notices,
    /// Held across each read-modify-write of a request: two experts taking one request
    /// at once must not both have it.
    writes: tokio::sync::Mutex<()>,
}

impl HelpDesk {
    pub fn new(store: Store, board: Board, notices: Notices) -> HelpDesk {
        if let Err(e) = store::index_queue(&store) {
            tracing::error!(error = %e, "the help desk's queue could not be indexed");
        }
        HelpDesk {
            inner: Arc::new(Inner {
                store,
                board,
                notices,
                writes: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// `asker` asks for help in plain words (`field`: a classification code, or empty).
    pub async fn ask(
        &self,
        asker: Actor<'_>,
        text: &str,
        field: &str,
    ) -> Result<HelpRequest, HelpError> {
        let text = checked_text("text", text, MIN_REQUEST_CHARS)?;
        let field = field.trim();
        if !field.is_empty() && !self.inner.board.knows_category(field) {
            return Err(invalid("field", format!("unknown category {field:?}")));
        }
        let _writing = self.inner.writes.lock().await;
        let asked = self.of_asker(asker.username)?;
        let open = asked
            .iter()
            .filter(|r| r.state != HelpState::Closed)
            .count();
        if open >= MAX_OPEN_PER_ASKER {
            return Err(HelpError::Full(format!(
                "at most {MAX_OPEN_PER_ASKER} requests open at a time"
            )));
        }
        let day_ago = UnixTime::now().0 - 86_400;
        if asked.iter().filter(|r| r.created_at.0 > day_ago).count() >= MAX_PER_ASKER_PER_DAY {
            return Err(HelpError::Full(format!(
                "at most {MAX_PER_ASKER_PER_DAY} requests a day"
            )));
        }
        let mut id = [0u8; 8];
        rand::fill(&mut id);
        let mut request = HelpRequest {
            id: format!("h_{}", hex::encode(id)),
            asker: asker.username.to_owned(),
            asker_name: asker.name.to_owned(),
            text: text.clone(),
            field: field.to_owned(),
            created_at: UnixTime::now(),
            state: HelpState::Open,
            expert: None,
            steps: Vec::new(),
        };
        request.step(StepKind::Asked, asker.name, "")?;
        let mut batch = Batch::new();
        store::put(&mut batch, &request)?;
        self.inner.store.commit(batch).await?;
        tracing::info!(request = request.id, "help asked for");
        Ok(request)
    }

    /// The requests `username` asked, newest first.
    pub fn of_asker(&self, username: &str) -> Result<Vec<HelpRequest>, StoreError> {
        store::of_asker(&self.inner.store, username)
    }

    /// The experts' queue, newest first: how many requests there are, and `limit` of
    /// them after `offset`.
    pub fn queue(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<HelpRequest>), StoreError> {
        store::queue_page(&self.inner.store, offset, limit)
    }

    /// A request, for its asker or an expert.
    pub fn request(&self, actor: Actor<'_>, id: &str) -> Result<HelpRequest, HelpError> {
        let request =
            store::get(&self.inner.store, id)?.ok_or_else(|| HelpError::NotFound(id.into()))?;
        if !actor.expert && request.asker != actor.username {
            return Err(HelpError::NotFound(id.into()));
        }
        Ok(request)
    }

    /// An expert takes an open request.
    pub async fn take(&self, expert: Actor<'_>, id: &str) -> Result<HelpRequest, HelpError> {
        if !expert.expert {
            return Err(HelpError::NotYours(
                "only a service expert takes a request".into(),
            ));
        }
        self.change(id, |request| {
            match request.state {
                HelpState::Closed => return Err(HelpError::Closed),
                HelpState::Taken => {
                    return Err(HelpError::NotYours("another expert has taken it".into()));
                }
                HelpState::Open => {}
            }
            request.state = HelpState::Taken;
            request.expert = Some((expert.username.to_owned(), expert.name.to_owned()));
            request.step(StepKind::Taken, expert.name, "")?;
            Ok(format!("服务专家 {} 已受理您的咨询。", expert.name))
        })
        .await
    }

    /// The expert who took a request writes to its asker, or the asker answers.
    pub async fn write(
        &self,
        actor: Actor<'_>,
        id: &str,
        text: &str,
    ) -> Result<HelpRequest, HelpError> {
        let text = checked_text("text", text, 1)?;
        self.change(id, |request| {
            let by_expert = party(request, actor, "write on it")?;
            request.step(StepKind::Message, actor.name, &text)?;
            // The asker is told of the expert's messages; the expert reads the queue.
            Ok(if by_expert {
                text.clone()
            } else {
                String::new()
            })
        })
        .await
    }

    /// The expert who took a request posts the need for its asker (whose prices are
    /// `tier`'s), referred to a member if `draft` names one; the request is done.
    pub async fn post_need(
        &self,
        expert: Actor<'_>,
        id: &str,
        tier: UserTier,
        draft: NeedDraft,
    ) -> Result<(HelpRequest, Need), HelpError> {
        let _writing = self.inner.writes.lock().await;
        let request = self.taken_by(expert, id)?;
        let referred_to = draft.referred_to.clone();
        // Named by the request: posting again after a crash before the step below was
        // kept gives back the same need.
        let need = self
            .inner
            .board
            .post_once(&request.asker, tier, draft, format!("n_{}", request.id))
            .await?;
        let mut request = request;
        request.push(HelpStep {
            kind: StepKind::NeedPosted,
            by: expert.name.to_owned(),
            text: String::new(),
            at: UnixTime::now(),
            need_id: need.id(),
            referred_to: referred_to.clone(),
        })?;
        request.state = HelpState::Closed;
        let note = match &referred_to {
            Some(to) => format!(
                "服务专家 {} 已为您发布需求「{}」，并推荐给 {to}。",
                expert.name, need.title
            ),
            None => format!(
                "服务专家 {} 已为您发布需求「{}」。",
                expert.name, need.title
            ),
        };
        self.save_and_tell(&request, note).await?;
        tracing::info!(
            request = id,
            need = need.id(),
            "need posted for a request for help"
        );
        Ok((request, need))
    }

    /// Closes a request: by its asker, or by the expert who took it (with a reason).
    pub async fn close(
        &self,
        actor: Actor<'_>,
        id: &str,
        reason: &str,
    ) -> Result<HelpRequest, HelpError> {
        let reason = reason.trim().to_owned();
        if reason.chars().count() > MAX_TEXT_CHARS {
            return Err(invalid(
                "reason",
                format!("at most {MAX_TEXT_CHARS} characters"),
            ));
        }
        self.change(id, |request| {
            let by_expert = party(request, actor, "close it")?;
            if by_expert && reason.is_empty() {
                return Err(invalid("reason", "an expert closing a request says why"));
            }
            request.state = HelpState::Closed;
            request.step(StepKind::Closed, actor.name, &reason)?;
            Ok(if by_expert {
                reason.clone()
            } else {
                String::new()
            })
        })
        .await
    }

    /// The request if `expert` took it and it is still open.
    fn taken_by(&self, expert: Actor<'_>, id: &str) -> Result<HelpRequest, HelpError> {
        let request =
            store::get(&self.inner.store, id)?.ok_or_else(|| HelpError::NotFound(id.into()))?;
        if !expert.expert
            || request
                .expert
                .as_ref()
                .is_none_or(|(e, _)| e != expert.username)
        {
            return Err(HelpError::NotYours(
                "only the service expert who took the request acts on it".into(),
            ));
        }
        if request.state == HelpState::Closed {
            return Err(HelpError::Closed);
        }
        Ok(request)
    }

    /// Applies `edit` to request `id` under the write lock and keeps it; `edit` returns
    /// what to tell the asker (empty: nothing).
    async fn change(
        &self,
        id: &str,
        edit: impl FnOnce(&mut HelpRequest) -> Result<String, HelpError>,
    ) -> Result<HelpRequest, HelpError> {
        let _writing = self.inner.writes.lock().await;
        let mut request =
            store::get(&self.inner.store, id)?.ok_or_else(|| HelpError::NotFound(id.into()))?;
        let note = edit(&mut request)?;
        self.save_and_tell(&request, note).await?;
        Ok(request)
    }

    /// Keeps `request` and, in the same commit, queues `note` for its asker.
    async fn save_and_tell(&self, request: &HelpRequest, note: String) -> Result<(), HelpError> {
        let mut batch = Batch::new();
        store::put(&mut batch, request)?;
        if !note.is_empty() {
            let notice = Notice::new(
                format!("help/{}/{}", request.id, request.steps.len()),
                NoticeKind::HelpUpdate,
                Recipients::User(request.asker.clone()),
                Facts {
                    note,
                    ..Facts::default()
                },
            );
            self.inner.notices.put(&mut batch, &notice)?;
        }
        self.inner.store.commit(batch).await?;
        self.inner.notices.wake();
        Ok(())
    }

    /// The fields `username` (an expert) says they know.
    pub fn fields_of(&self, username: &str) -> Result<Vec<String>, StoreError> {
        store::fields_of(&self.inner.store, username)
    }

    /// An expert says which fields they know (classification codes).
    pub async fn set_fields(
        &self,
        expert: Actor<'_>,
        fields: Vec<String>,
    ) -> Result<Vec<String>, HelpError> {
        if !expert.expert {
            return Err(HelpError::NotYours(
                "only a service expert names fields".into(),
            ));
        }
        let mut kept: Vec<String> = Vec::new();
        for field in fields.iter().map(|f| f.trim()).filter(|f| !f.is_empty()) {
            if !self.inner.board.knows_category(field) {
                return Err(invalid("fields", format!("unknown category {field:?}")));
            }
            if !kept.iter().any(|k| k == field) {
                kept.push(field.to_owned());
            }
        }
        if kept.len() > MAX_FIELDS {
            return Err(invalid("fields", format!("at most {MAX_FIELDS}")));
        }
        let mut batch = Batch::new();
        store::put_fields(&mut batch, expert.username, &kept)?;
        self.inner.store.commit(batch).await?;
        Ok(kept)
    }
}
