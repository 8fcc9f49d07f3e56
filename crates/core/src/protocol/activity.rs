//! The platform object's commands for what happened on the platform and what it earned
//! (API.md "Request log and revenue"): its request log, written by `track`, and its
//! revenue, kept from the end-user subscription events it applies.

use crate::command;
use crate::ids::UserId;
use crate::logs::LogEntry;
use crate::revenue::Revenue;
use serde::{Deserialize, Serialize};

/// A page of the request log, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadLogs {
    pub user_id: Option<UserId>,
    pub status: Option<u16>,
    /// Only entries written before the one numbered so (a previous page's cursor).
    pub before: Option<i64>,
    pub limit: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    /// The cursor of the next page, `None` on the last.
    pub next_before: Option<String>,
}

command!(PlatformCommand for ReadLogs = "/logs" -> LogPage);

/// The platform's revenue from its end-users' subscriptions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadRevenue;

command!(PlatformCommand for ReadRevenue = "/revenue" -> Revenue);
