//! Every error the API answers is `{"error": code, "message": text}`, including those the
//! HTTP framework produces before a handler runs: an unknown route, a method the route does
//! not serve, a query string or path segment that does not parse, and a body above the
//! endpoint's limit (refused from its declared length, before it is read). Handlers answer in
//! that shape themselves; this layer rewrites the framework's plain-text and empty answers.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Most bytes of a framework error body kept as the message.
const MESSAGE_BYTES: usize = 4 * 1024;

/// Refuses a request whose declared length is above `limit` without reading its body (a body
/// sent without a length is cut off at `limit` as it is read, by `DefaultBodyLimit`); the
/// refusal takes the JSON shape in [`json_errors`], as the framework's own 413 does.
pub async fn refuse_declared_oversize(
    State(limit): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let declared = (request.headers().get(header::CONTENT_LENGTH))
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    if let Some(declared) = declared.filter(|declared| *declared > limit as u64) {
        let message = format!("the body is {declared} bytes; the limit is {limit}");
        return (StatusCode::PAYLOAD_TOO_LARGE, message).into_response();
    }
    next.run(request).await
}

/// Rewrites an error the framework answered (as plain text, or with no body) into the API's
/// error shape; the API's own errors are JSON already, and the explorer's are pages.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    let status = response.status();
    let from_the_framework = (response.headers().get(header::CONTENT_TYPE))
        .is_none_or(|kind| kind.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !from_the_framework {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MESSAGE_BYTES).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let (code, message) = framework_error(status, &method, &path, text);
    let body = json!({ "error": code, "message": message }).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    (parts.headers).insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

/// The code and message for an error the framework answered with `text`.
fn framework_error(
    status: StatusCode,
    method: &Method,
    path: &str,
    text: String,
) -> (&'static str, String) {
    let explained = |fallback: String| {
        if text.is_empty() {
            fallback
        } else {
            text.clone()
        }
    };
    match status {
        StatusCode::NOT_FOUND => ("no_such_route", format!("no endpoint at {path}")),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            format!("{path} does not serve {method} (the Allow header lists what it serves)"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            explained(format!("the body is above {path}'s limit")),
        ),
        StatusCode::BAD_REQUEST => ("bad_request", explained("a malformed request".into())),
        _ => (
            "http_error",
            explained(status.canonical_reason().unwrap_or("error").to_string()),
        ),
    }
}
