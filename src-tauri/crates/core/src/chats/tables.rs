//! The chats topic's tables, opened to the tests of other topics and to the bench (which
//! measure the journal and read what it wrote). No code outside `chats` names
//! [`ChatTables`]: a topic asks [`super::ChatService`] (`tests/suite/doors.rs`).

use super::{BegunTurn, JournalOp, Placement, TurnEnd};
use crate::error::StoreError;
use parley_protocol::{ChatHistory, ChatId, ChatSummary, ChatTree, MessageId, Part, TurnId};

tables_door! {
    /// The chats' tables for tests and the bench (see the module's docs).
    #[doc(hidden)]
    pub trait ChatTables {
        fn create_chat(
            &self,
            id: ChatId,
            title: String,
        ) -> Result<ChatSummary, StoreError>;
        fn get_chat(&self, id: &ChatId) -> Result<Option<ChatSummary>, StoreError>;
        fn rename_chat(
            &self,
            id: &ChatId,
            title: String,
            seen: Option<u64>,
        ) -> Result<bool, StoreError>;
        fn delete_chat(&self, id: &ChatId) -> Result<bool, StoreError>;
        fn begin_turn(
            &self,
            chat_id: &ChatId,
            text: String,
            provider: String,
            model: String,
            owner: String,
        ) -> Result<BegunTurn, StoreError>;
        fn begin_turn_at(
            &self,
            chat_id: &ChatId,
            text: String,
            provider: String,
            model: String,
            owner: String,
            at: Placement,
        ) -> Result<BegunTurn, StoreError>;
        fn begin_retry(
            &self,
            chat_id: &ChatId,
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
        fn history(&self, id: &ChatId) -> Result<Option<ChatHistory>, StoreError>;
        fn part(
            &self,
            session: &ChatId,
            message: &MessageId,
            index: u32,
        ) -> Result<Option<Part>, StoreError>;
        fn tree(&self, session: &ChatId) -> Result<Option<ChatTree>, StoreError>;
        fn fork(
            &self,
            session: &ChatId,
            message: &MessageId,
            new_id: ChatId,
        ) -> Result<(), StoreError>;
        fn delete_branch(
            &self,
            session: &ChatId,
            message: &MessageId,
            seen: Option<u64>,
        ) -> Result<u64, StoreError>;
    }
}
