use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub id: Uuid,
    pub company_id: Uuid,
    pub occurred_at: DateTimeUtc,
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor_username: Option<String>,
    pub actor_name: Option<String>,
    pub subject_id: Option<Uuid>,
    pub subject_username: Option<String>,
    pub subject_name: Option<String>,
    pub changes: Option<Json>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
