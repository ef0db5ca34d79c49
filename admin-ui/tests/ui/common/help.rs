//! The help-desk half of [`MemoryBackend`]: no requests (the help desk is the node's,
//! tested across real nodes through the API and a browser); asking is refused.

use alliance_web::backend::{
    Account, ActionFailure, HelpBackend, HelpForm, HelpNeedForm, HelpPageView, HelpQuery, HelpView,
};

use super::MemoryBackend;

fn empty(query: &HelpQuery) -> HelpPageView {
    HelpPageView {
        total: 0,
        offset: query.offset,
        items: Vec::new(),
    }
}

impl HelpBackend for MemoryBackend {
    async fn my_help_requests(&self, _account: &Account, query: &HelpQuery) -> HelpPageView {
        empty(query)
    }

    async fn help_queue(
        &self,
        _account: &Account,
        query: &HelpQuery,
    ) -> Result<HelpPageView, ActionFailure> {
        Ok(empty(query))
    }

    async fn help_request(&self, _account: &Account, _id: &str) -> Result<HelpView, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn ask_help(
        &self,
        _account: &Account,
        _form: HelpForm,
    ) -> Result<HelpView, ActionFailure> {
        Err(ActionFailure::Unreachable)
    }

    async fn take_help(&self, _account: &Account, _id: &str) -> Result<HelpView, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn write_help(
        &self,
        _account: &Account,
        _id: &str,
        _text: &str,
    ) -> Result<HelpView, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn post_help_need(
        &self,
        _account: &Account,
        _id: &str,
        _form: HelpNeedForm,
    ) -> Result<HelpView, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn close_help(
        &self,
        _account: &Account,
        _id: &str,
        _reason: &str,
    ) -> Result<HelpView, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn expert_fields(&self, _account: &Account) -> Result<Vec<String>, ActionFailure> {
        Ok(Vec::new())
    }

    async fn set_expert_fields(
        &self,
        _account: &Account,
        fields: Vec<String>,
    ) -> Result<Vec<String>, ActionFailure> {
        Ok(fields)
    }
}
