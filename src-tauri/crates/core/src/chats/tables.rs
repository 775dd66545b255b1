//! The chats topic's tables, opened to the tests of other topics and to the bench (which
//! measure the journal and read what it wrote). No code outside `chats` names
//! [`ChatTables`]: a topic asks [`super::ChatService`] (`tests/suite/doors.rs`).

use super::{BegunTurn, JournalOp, Placement, TurnEnd};
use crate::error::StoreError;
use parley_protocol::{
    ChatTree, MessageId, Part, SessionHistory, SessionId, SessionSummary, TurnId,
};

tables_door! {
    /// The chats' tables for tests and the bench (see the module's docs).
    #[doc(hidden)]
    pub trait ChatTables {
        fn create_session(
            &self,
            id: SessionId,
            title: String,
        ) -> Result<SessionSummary, StoreError>;
        fn get_session(&self, id: &SessionId) -> Result<Option<SessionSummary>, StoreError>;
        fn rename_session(
            &self,
            id: &SessionId,
            title: String,
            seen: Option<u64>,
        ) -> Result<bool, StoreError>;
        fn delete_session(&self, id: &SessionId) -> Result<bool, StoreError>;
        fn begin_turn(
            &self,
            session_id: &SessionId,
            text: String,
            provider: String,
            model: String,
            owner: String,
        ) -> Result<BegunTurn, StoreError>;
        fn begin_turn_at(
            &self,
            session_id: &SessionId,
            text: String,
            provider: String,
            model: String,
            owner: String,
            at: Placement,
        ) -> Result<BegunTurn, StoreError>;
        fn begin_retry(
            &self,
            session_id: &SessionId,
            user_message_id: &MessageId,
            provider: String,
            model: String,
            owner: String,
        ) -> Result<BegunTurn, StoreError>;
        fn journal(&self, ops: Vec<JournalOp>) -> Result<(), StoreError>;
        fn finish_turn(
            &self,
            turn_id: &TurnId,
            ops: Vec<JournalOp>,
            end: TurnEnd,
        ) -> Result<(), StoreError>;
        fn active_turn_owners(&self) -> Result<Vec<String>, StoreError>;
        fn interrupt_turns_of(&self, owner: &str) -> Result<usize, StoreError>;
        fn history(&self, id: &SessionId) -> Result<Option<SessionHistory>, StoreError>;
        fn part(
            &self,
            session: &SessionId,
            message: &MessageId,
            index: u32,
        ) -> Result<Option<Part>, StoreError>;
        fn tree(&self, session: &SessionId) -> Result<Option<ChatTree>, StoreError>;
        fn fork(
            &self,
            session: &SessionId,
            message: &MessageId,
            new_id: SessionId,
        ) -> Result<(), StoreError>;
        fn delete_branch(
            &self,
            session: &SessionId,
            message: &MessageId,
            seen: Option<u64>,
        ) -> Result<u64, StoreError>;
    }
}
