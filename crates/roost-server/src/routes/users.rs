use axum::extract::State;
use axum::http::StatusCode;
use roost_api::ErrorBody;
use roost_api::users::{CreateUserRequest, Role, UpdateUserRequest, User, UserList};
use roost_db::{DbError, UserPatch};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::extract::{Authed, Json, Path};
use crate::state::AppState;
use crate::tokens::hash_password_async;

fn user_not_found(e: DbError) -> AppError {
    match e {
        DbError::NotFound => AppError::not_found("user"),
        other => other.into(),
    }
}

/// The company's users (admins and managers).
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = UserList), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(State(state): State<AppState>, auth: Authed) -> AppResult<axum::Json<UserList>> {
    auth.require(&[Role::Admin, Role::Manager])?;
    Ok(axum::Json(UserList {
        users: state.db.users(auth.tenant).await?,
    }))
}

/// Create a user with roles and an initial password (admins).
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = User),
        (status = 403, body = ErrorBody),
        (status = 409, description = "email taken in this company", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    auth: Authed,
    Json(req): Json<CreateUserRequest>,
) -> AppResult<(StatusCode, axum::Json<User>)> {
    auth.require(&[Role::Admin])?;
    req.validate()?;
    let hash = hash_password_async(req.password.clone()).await;
    let user = state
        .db
        .create_user(&auth.ctx(), &req.email, &req.name, &hash, &req.roles)
        .await
        .map_err(|e| AppError::from(e).with_field("email"))?;
    Ok((StatusCode::CREATED, axum::Json(user)))
}

/// One user (admins and managers; anyone may read themselves).
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<User>> {
    if id != auth.user_id {
        auth.require(&[Role::Admin, Role::Manager])?;
    }
    Ok(axum::Json(
        state
            .db
            .user(auth.tenant, id)
            .await
            .map_err(user_not_found)?,
    ))
}

/// Change a user's name or roles, or deactivate them (admins). Deactivation signs out all
/// their devices; the last active admin cannot be demoted or deactivated.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "user id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = User),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "would leave no active admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    auth: Authed,
    Path(id): Path<Uuid>,
    Json(req): Json<UpdateUserRequest>,
) -> AppResult<axum::Json<User>> {
    auth.require(&[Role::Admin])?;
    req.validate()?;
    let user = state
        .db
        .update_user(
            &auth.ctx(),
            id,
            UserPatch {
                name: req.name,
                roles: req.roles,
                active: req.active,
            },
        )
        .await
        .map_err(user_not_found)?;
    Ok(axum::Json(user))
}
