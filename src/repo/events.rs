use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::entities::event::{Column, Entity as Events, Model as Event};

/// A validated history query; pages walk `seq` downwards (newest first).
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    /// Events whose actor or subject is this user.
    pub involving: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub actions: Vec<&'static str>,
    /// Inclusive lower bound on `occurred_at`.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `occurred_at`.
    pub to: Option<DateTime<Utc>>,
    /// Only events older than this position (the cursor).
    pub before_seq: Option<i64>,
    pub limit: u64,
}

/// Up to `limit + 1` events, newest first: the extra one tells whether another page exists.
pub async fn list(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    query: &EventQuery,
) -> Result<Vec<Event>, DbErr> {
    let mut cond = Condition::all().add(Column::CompanyId.eq(company_id));
    if let Some(user) = query.involving {
        cond = cond.add(
            Condition::any()
                .add(Column::SubjectId.eq(user))
                .add(Column::ActorId.eq(user)),
        );
    }
    if let Some(actor) = query.actor_id {
        cond = cond.add(Column::ActorId.eq(actor));
    }
    if let Some(subject) = query.subject_id {
        cond = cond.add(Column::SubjectId.eq(subject));
    }
    if !query.actions.is_empty() {
        cond = cond.add(Column::Action.is_in(query.actions.iter().copied()));
    }
    if let Some(from) = query.from {
        cond = cond.add(Column::OccurredAt.gte(from));
    }
    if let Some(to) = query.to {
        cond = cond.add(Column::OccurredAt.lt(to));
    }
    if let Some(before) = query.before_seq {
        cond = cond.add(Column::Seq.lt(before));
    }
    Events::find()
        .filter(cond)
        .order_by_desc(Column::Seq)
        .limit(query.limit + 1)
        .all(conn)
        .await
}
